/**
 * The operator's DLQ tools, as functions (the CLIs in scripts/ parse flags and print):
 *
 * - `inspectDlq`: every DLQ message grouped by `failureCode`, with a count and one example
 *   job id per code. It reads message attributes only, never bodies, and makes every
 *   message visible again when it is done.
 * - `redriveDlq`: moves DLQ messages back to the main queue, send first and delete after,
 *   so an interruption at any point leaves a message in one queue or (briefly) both,
 *   never in neither. The worker is idempotent, so a message in both is harmless.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** The group of messages SQS moved itself (maxReceiveCount reached without a worker verdict). */
export const NO_FAILURE_CODE = '(none: moved by SQS after maxReceiveCount)';

/** Attributes the worker adds on the way into the DLQ; the redrive takes them off. */
const FAILURE_ATTRIBUTES = new Set(['failureCode', 'failureReason', 'failedAt']);

/** One failure code's share of the DLQ. */
export interface FailureGroup {
  failureCode: string;
  count: number;
  /** One job id carrying this code (from the `jobId` attribute, else the SQS message id). */
  exampleJobId: string;
  /** The newest `failedAt` seen for this code, if the worker set one. */
  lastFailedAt?: string;
}

/** How long received messages stay hidden while a tool works through the queue. */
const HOLD_SECONDS = 120;

const codeOf = (message: Message): string => message.MessageAttributes?.['failureCode']?.StringValue ?? NO_FAILURE_CODE;
const jobIdOf = (message: Message): string => message.MessageAttributes?.['jobId']?.StringValue ?? `message:${message.MessageId ?? '?'}`;

/** Groups messages by failure code (pure); groups with more messages first. */
export function groupByFailureCode(messages: readonly Message[]): FailureGroup[] {
  const groups = new Map<string, FailureGroup>();
  for (const message of messages) {
    const code = codeOf(message);
    const failedAt = message.MessageAttributes?.['failedAt']?.StringValue;
    const group = groups.get(code) ?? { failureCode: code, count: 0, exampleJobId: jobIdOf(message) };
    group.count += 1;
    if (failedAt && (!group.lastFailedAt || failedAt > group.lastFailedAt)) group.lastFailedAt = failedAt;
    groups.set(code, group);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || a.failureCode.localeCompare(b.failureCode));
}

/** Visible plus in-flight messages of a queue, as SQS estimates them. */
export async function approximateDepth(client: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(Attributes?.['ApproximateNumberOfMessages'] ?? 0) + Number(Attributes?.['ApproximateNumberOfMessagesNotVisible'] ?? 0);
}

/** Receives up to `max` (<= 10) messages and hides them for the tool's run. */
async function receive(client: SQSClient, queueUrl: string, max: number): Promise<Message[]> {
  const { Messages } = await client.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: Math.max(1, Math.min(10, max)),
      VisibilityTimeout: HOLD_SECONDS,
      WaitTimeSeconds: 1,
      MessageAttributeNames: ['All'],
    }),
  );
  return Messages ?? [];
}

/** Makes received messages visible again at once (best effort: otherwise they reappear after the hold). */
async function release(client: SQSClient, queueUrl: string, messages: readonly Message[]): Promise<void> {
  for (let start = 0; start < messages.length; start += 10) {
    const group = messages.slice(start, start + 10);
    try {
      await client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: group.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 })),
        }),
      );
    } catch {
      // They become visible by themselves when the hold ends.
    }
  }
}

/** What `inspectDlq` found. */
export interface InspectResult {
  total: number;
  groups: FailureGroup[];
}

/** Reads the whole DLQ (up to `max` messages) by attributes and groups it by failure code. */
export async function inspectDlq(client: SQSClient, dlqUrl: string, options: { max?: number } = {}): Promise<InspectResult> {
  const max = options.max ?? 10_000;
  const seen: Message[] = [];
  try {
    while (seen.length < max) {
      const messages = await receive(client, dlqUrl, max - seen.length);
      if (messages.length === 0) break;
      seen.push(...messages);
    }
  } finally {
    await release(client, dlqUrl, seen);
  }
  return { total: seen.length, groups: groupByFailureCode(seen) };
}

/** The attributes a redriven message goes back with: the original ones, without the failure verdict. */
export function redriveAttributes(message: Message): Record<string, MessageAttributeValue> {
  return Object.fromEntries(Object.entries(message.MessageAttributes ?? {}).filter(([name]) => !FAILURE_ATTRIBUTES.has(name)));
}

/** Options of `redriveDlq`. */
export interface RedriveOptions {
  queueUrl: string;
  dlqUrl: string;
  /** Move at most this many messages. */
  limit?: number;
  /** Count what would move; move nothing. */
  dryRun?: boolean;
  /** Only messages with this failure code (others stay in the DLQ). */
  failureCode?: string;
  /** Told after each group of up to ten messages. */
  onProgress?: (done: number) => void;
  /** Checked between groups: true stops the run cleanly (Ctrl-C). */
  stopRequested?: () => boolean;
}

/** What a redrive did. */
export interface RedriveResult {
  /** Messages now in the main queue (and deleted from the DLQ, unless counted in `notDeleted`). */
  moved: number;
  /** Sent to the queue but still in the DLQ (the delete failed): they will run twice, harmlessly. */
  notDeleted: number;
  /** Could not be sent; still in the DLQ. */
  failed: number;
  /** In a dry run: what would have moved, by failure code. */
  wouldMove: FailureGroup[];
  stopped: boolean;
}

/**
 * Moves DLQ messages to the main queue in groups of ten: SendMessageBatch to the queue,
 * then DeleteMessageBatch from the DLQ for the entries the queue took. A message the
 * queue refused is released in the DLQ. Safe to interrupt and to run again.
 */
export async function redriveDlq(client: SQSClient, options: RedriveOptions): Promise<RedriveResult> {
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const result: RedriveResult = { moved: 0, notDeleted: 0, failed: 0, wouldMove: [], stopped: false };
  const skipped: Message[] = [];
  const dryRunSeen: Message[] = [];
  try {
    while (result.moved + result.notDeleted + dryRunSeen.length < limit) {
      if (options.stopRequested?.()) {
        result.stopped = true;
        break;
      }
      const room = limit - result.moved - result.notDeleted - dryRunSeen.length;
      const received = await receive(client, options.dlqUrl, Math.min(10, room));
      if (received.length === 0) break;
      const chosen = options.failureCode === undefined ? received : received.filter((m) => codeOf(m) === options.failureCode);
      skipped.push(...received.filter((m) => !chosen.includes(m)));
      if (chosen.length === 0) continue;
      if (options.dryRun) {
        dryRunSeen.push(...chosen);
        options.onProgress?.(dryRunSeen.length);
        continue;
      }
      const sent = await client.send(
        new SendMessageBatchCommand({
          QueueUrl: options.queueUrl,
          Entries: chosen.map((message, index) => ({
            Id: String(index),
            MessageBody: message.Body ?? '',
            MessageAttributes: redriveAttributes(message),
          })),
        }),
      ).catch(() => ({ Successful: [], Failed: chosen.map((_, index) => ({ Id: String(index) })) }));
      const accepted = (sent.Successful ?? []).map((entry) => chosen[Number(entry.Id)]).filter((m): m is Message => m !== undefined);
      const refused = chosen.filter((m) => !accepted.includes(m));
      result.failed += refused.length;
      skipped.push(...refused);
      if (accepted.length > 0) {
        const deleted = await client
          .send(
            new DeleteMessageBatchCommand({
              QueueUrl: options.dlqUrl,
              Entries: accepted.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
            }),
          )
          .catch(() => ({ Successful: [], Failed: accepted.map((_, index) => ({ Id: String(index) })) }));
        const notDeleted = (deleted.Failed ?? []).length;
        result.notDeleted += notDeleted;
        result.moved += accepted.length - notDeleted;
      }
      options.onProgress?.(result.moved + result.notDeleted);
    }
  } finally {
    await release(client, options.dlqUrl, [...skipped, ...dryRunSeen]);
  }
  result.wouldMove = groupByFailureCode(dryRunSeen);
  return result;
}
