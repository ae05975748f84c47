/**
 * The one SQS batch sender: `SendMessageBatch` in groups of ten, the entries SQS refused
 * and the calls that failed or stalled retried with a short backoff, every call under a
 * hard deadline (`awsCall`) within the caller's time budget. The producer (CRM sync jobs)
 * and the worker's dead letters both send through it. It lives in `lib/net`, beside
 * `awsCall`, because it is a transport mechanism both `lib/jobs` and `lib/sync` use and
 * `lib/net` depends on neither (no import cycle, no new top-level folder); it sits behind
 * the subpath `#lib/net/sqs` so the functions that import `#lib/net` without sending to
 * SQS do not load the SQS client at cold start.
 */
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import { awsCall } from '../aws.ts';

/** SQS takes at most ten entries per `SendMessageBatch`. */
export const SQS_BATCH_SIZE = 10;

/** A call is not started with less time than this left: it could not complete. */
export const SQS_MIN_CALL_MS = 100;

/** Options of `sendSqsBatches`. */
export interface SqsBatchOptions<T> {
  queueUrl: string;
  client: SQSClient;
  /** The entry of one item; `id` is its position in its call (the entry's `Id`). */
  entry: (item: T, id: string) => SendMessageBatchRequestEntry;
  /** Attempts per entry (first try included). Default 3. */
  maxAttempts?: number;
  /** Time allowed for all attempts together (default: unbounded); what is not sent by then is unsent. */
  budgetMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** What became of the items: SQS's message id of each one it took, and those it did not, with the last reason. */
export interface SqsBatchResult<T> {
  messageIds: Map<T, string>;
  unsent: T[];
  /** Why the last unsent item was not sent (present only when some are unsent). */
  reason?: string;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The wait before attempt `attempt` (2, 3, ...): 50 ms, doubling. */
const backoffMs = (attempt: number): number => 50 * 2 ** (attempt - 2);

/**
 * Sends `items` to `queueUrl` in groups of ten until every one is taken, the attempts are
 * used up or the budget runs out. Never throws: what SQS did not take comes back in `unsent`.
 */
export async function sendSqsBatches<T>(items: readonly T[], options: SqsBatchOptions<T>): Promise<SqsBatchResult<T>> {
  const maxAttempts = options.maxAttempts ?? 3;
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  const end = options.budgetMs === undefined ? Number.POSITIVE_INFINITY : now() + options.budgetMs;
  const messageIds = new Map<T, string>();
  let pending: readonly T[] = items;
  let reason: string | undefined;
  for (let attempt = 1; attempt <= maxAttempts && pending.length > 0; attempt += 1) {
    if (attempt > 1) {
      const wait = backoffMs(attempt);
      if (end - now() <= wait + SQS_MIN_CALL_MS) break;
      await sleep(wait);
    }
    const failed: T[] = [];
    for (let start = 0; start < pending.length; start += SQS_BATCH_SIZE) {
      const group = pending.slice(start, start + SQS_BATCH_SIZE);
      const left = end - now();
      if (left < SQS_MIN_CALL_MS) {
        failed.push(...group);
        reason ??= 'no time left to send';
        continue;
      }
      const command = new SendMessageBatchCommand({ QueueUrl: options.queueUrl, Entries: group.map((item, index) => options.entry(item, String(index))) });
      try {
        const result = await (Number.isFinite(left) ? awsCall(left, (o) => options.client.send(command, o)) : options.client.send(command));
        for (const ok of result.Successful ?? []) {
          const item = group[Number(ok.Id)];
          if (item !== undefined && ok.MessageId) messageIds.set(item, ok.MessageId);
        }
        for (const bad of result.Failed ?? []) {
          const item = group[Number(bad.Id)];
          if (item !== undefined) failed.push(item);
          reason = `SQS refused an entry: ${bad.Code ?? 'unknown'}`;
        }
      } catch (error) {
        failed.push(...group);
        reason = `SQS ${errorName(error)}`;
      }
    }
    pending = failed;
  }
  return { messageIds, unsent: [...pending], ...(reason !== undefined && pending.length > 0 ? { reason } : {}) };
}

function errorName(error: unknown): string {
  return typeof error === 'object' && error !== null && 'name' in error && typeof error.name === 'string' ? error.name : 'error';
}
