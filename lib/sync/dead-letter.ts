/**
 * Moving a message that can never succeed to the DLQ at once, with the reason: the
 * original body unchanged, its attributes kept, and `failureCode`, `failureReason`,
 * `failedAt` and `jobId` added so an operator (and `npm run dlq:inspect`) sees why.
 */
import { SendMessageBatchCommand, type MessageAttributeValue, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { maskIdentifiers } from '#lib/pii';
import { safeFailureCode } from './classify.ts';

/** One message to dead-letter. */
export interface DeadLetter {
  message: SQSRecord;
  code: string;
  reason: string;
  /** The job id, when the message could be read far enough to have one. */
  jobId?: string;
}

/** Attribute names the worker writes on dead letters (and the redrive tool removes). */
export const FAILURE_ATTRIBUTES = ['failureCode', 'failureReason', 'failedAt'] as const;

/** SQS allows ten message attributes; four are ours. */
const MAX_ATTRIBUTES = 10;
const MAX_REASON = 500;

/** A Lambda event attribute as the SDK sends it (list values are not supported by SQS). */
function toSdkAttribute(attribute: SQSRecord['messageAttributes'][string]): MessageAttributeValue | undefined {
  if (attribute.stringValue !== undefined) return { DataType: attribute.dataType, StringValue: attribute.stringValue };
  if (attribute.binaryValue !== undefined) {
    return { DataType: attribute.dataType, BinaryValue: Buffer.from(attribute.binaryValue, 'base64') };
  }
  return undefined;
}

/** The job id attribute: the job's, else a marker naming the unreadable message. */
export const deadLetterJobId = (letter: DeadLetter): string => letter.jobId ?? `unknown:${letter.message.messageId}`;

/** Builds the SendMessageBatch entry of one dead letter (pure). */
export function deadLetterEntry(letter: DeadLetter, id: string, failedAt: Date): SendMessageBatchRequestEntry {
  const reserved = new Set<string>([...FAILURE_ATTRIBUTES, 'jobId']);
  const kept = Object.entries(letter.message.messageAttributes ?? {})
    .filter(([name]) => !reserved.has(name))
    .flatMap(([name, value]): Array<[string, MessageAttributeValue]> => {
      const converted = toSdkAttribute(value);
      return converted ? [[name, converted]] : [];
    })
    .slice(0, MAX_ATTRIBUTES - 4);
  const reason = maskIdentifiers(letter.reason).value;
  return {
    Id: id,
    MessageBody: letter.message.body,
    MessageAttributes: {
      ...Object.fromEntries(kept),
      failureCode: { DataType: 'String', StringValue: safeFailureCode(letter.code) },
      failureReason: { DataType: 'String', StringValue: (reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON - 1)}…` : reason) || 'no reason given' },
      failedAt: { DataType: 'String', StringValue: failedAt.toISOString() },
      jobId: { DataType: 'String', StringValue: deadLetterJobId(letter) },
    },
  };
}

/** Options of `sendDeadLetters`. */
export interface SendDeadLettersOptions {
  queueUrl: string;
  client: SQSClient;
  /** Attempts per entry (first try included). Default 3. */
  maxAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => Date;
  /** Time allowed for all attempts together (default: unbounded); what is not sent by then is undelivered. */
  timeoutMs?: number;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends dead letters with SendMessageBatch (ten per call), retrying refused entries and
 * failed calls. Resolves with the message ids that could NOT be dead-lettered: the
 * worker reports those as batch item failures, so a message is never in neither queue.
 */
export async function sendDeadLetters(letters: readonly DeadLetter[], options: SendDeadLettersOptions): Promise<Set<string>> {
  const maxAttempts = options.maxAttempts ?? 3;
  const sleep = options.sleep ?? defaultSleep;
  const failedAt = (options.now ?? (() => new Date()))();
  // Our own timer (a strong reference), so a stuck call cannot keep the Lambda past its timeout.
  const controller = new AbortController();
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => controller.abort(), Math.max(1, options.timeoutMs));
  let pending = [...letters];
  try {
    pending = await sendWithRetries(pending, options, failedAt, maxAttempts, sleep, controller.signal);
  } finally {
    clearTimeout(timer);
  }
  return new Set(pending.map((letter) => letter.message.messageId));
}

async function sendWithRetries(
  letters: DeadLetter[],
  options: SendDeadLettersOptions,
  failedAt: Date,
  maxAttempts: number,
  sleep: (ms: number) => Promise<void>,
  signal: AbortSignal,
): Promise<DeadLetter[]> {
  // A call that ignores the abort (a stuck socket) still loses the race against it.
  const aborted = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('DLQ send timed out')), { once: true }));
  aborted.catch(() => undefined);
  let pending = letters;
  for (let attempt = 1; attempt <= maxAttempts && pending.length > 0 && !signal.aborted; attempt += 1) {
    if (attempt > 1) await sleep(50 * 2 ** (attempt - 2));
    const failed: DeadLetter[] = [];
    for (let start = 0; start < pending.length; start += 10) {
      const group = pending.slice(start, start + 10);
      try {
        const result = await Promise.race([
          options.client.send(
            new SendMessageBatchCommand({
              QueueUrl: options.queueUrl,
              Entries: group.map((letter, index) => deadLetterEntry(letter, String(index), failedAt)),
            }),
            { abortSignal: signal },
          ),
          aborted,
        ]);
        for (const refused of result.Failed ?? []) {
          const letter = group[Number(refused.Id)];
          if (letter) failed.push(letter);
        }
      } catch {
        failed.push(...group);
      }
    }
    pending = failed;
  }
  return pending;
}
