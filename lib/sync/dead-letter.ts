/**
 * Moving a message that can never succeed to the DLQ at once, with the reason: the
 * original body unchanged, its attributes kept, and `failureCode`, `failureReason`,
 * `failedAt` and `jobId` added so an operator (and `npm run dlq:inspect`) sees why.
 */
import type { MessageAttributeValue, SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { sendSqsBatches } from '#lib/net/sqs';
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

/**
 * Sends dead letters with SendMessageBatch (ten per call) through the one SQS batch sender
 * (`#lib/net/sqs`), retrying refused entries and failed calls. Resolves with the message
 * ids that could NOT be dead-lettered: the worker reports those as batch item failures,
 * so a message is never in neither queue.
 */
export async function sendDeadLetters(letters: readonly DeadLetter[], options: SendDeadLettersOptions): Promise<Set<string>> {
  const failedAt = (options.now ?? (() => new Date()))();
  const { unsent } = await sendSqsBatches(letters, {
    queueUrl: options.queueUrl,
    client: options.client,
    entry: (letter, id) => deadLetterEntry(letter, id, failedAt),
    // Every call under a hard deadline, so a stuck call cannot keep the Lambda past its timeout.
    ...(options.timeoutMs !== undefined ? { budgetMs: Math.max(1, options.timeoutMs) } : {}),
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
  });
  return new Set(unsent.map((letter) => letter.message.messageId));
}
