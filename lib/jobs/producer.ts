/**
 * The SQS producer for CRM sync jobs: `SendMessageBatch` in groups of ten, failed entries
 * retried, message attributes for operators (job id, source), and a last guard that
 * masks any identifier that slipped into a record, so no plaintext email, phone or SSN
 * ever reaches the queue.
 */
import { SendMessageBatchCommand, SQSClient, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { DependencyError } from '#lib/errors';
import { maskIdentifiers } from '#lib/pii';
import type { CrmSyncJob } from './job.ts';

let sharedClient: SQSClient | undefined;

/**
 * The container's SQS client. No explicit endpoint: AWS_ENDPOINT_URL_SQS (set by the
 * local stack) or the region decides; queue URLs are never used as endpoints.
 */
export function sharedSqsClient(): SQSClient {
  // Bounded so a stalled SQS connection cannot hold a handler past its Lambda timeout.
  sharedClient ??= new SQSClient({
    useQueueUrlAsEndpoint: false,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000 },
  });
  return sharedClient;
}

/** Drops the shared client so a test can build it again. */
export function resetSharedSqsClientForTests(): void {
  sharedClient?.destroy();
  sharedClient = undefined;
}

/** Raised when some jobs could not be enqueued after retries; names them, never their content. */
export class EnqueueError extends DependencyError {
  constructor(
    readonly failedJobIds: string[],
    options?: { cause?: unknown },
  ) {
    super(`${failedJobIds.length} CRM sync job(s) could not be queued.`, 502, options);
  }
}

/** Masks identifiers in every string of a value (deep), leaving hashes and ids alone. */
function maskDeep<T>(value: T): T {
  if (typeof value === 'string') return maskIdentifiers(value).value as T;
  if (Array.isArray(value)) return value.map(maskDeep) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskDeep(v)])) as T;
  }
  return value;
}

/** The job as it goes on the queue: identifiers masked in its free-form maps. */
export function toMessageBody(job: CrmSyncJob): string {
  const { attributes, channelContext, consentFlags, ...rest } = job.record;
  return JSON.stringify({
    ...job,
    record: {
      ...rest,
      ...(consentFlags ? { consentFlags: maskDeep(consentFlags) } : {}),
      ...(attributes ? { attributes: maskDeep(attributes) } : {}),
      ...(channelContext ? { channelContext: maskDeep(channelContext) } : {}),
    },
  });
}

/** Options of `enqueueJobs`. */
export interface EnqueueOptions {
  queueUrl: string;
  client?: SQSClient;
  /** Attempts per entry (first try included). Default 3. */
  maxAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends jobs with SendMessageBatch (ten per call). Entries SQS rejects, and whole calls
 * that fail, are retried with a short backoff; whatever still fails raises EnqueueError
 * naming the job ids. Resolves with the message id of each job.
 */
export async function enqueueJobs(jobs: CrmSyncJob[], options: EnqueueOptions): Promise<Map<string, string>> {
  const client = options.client ?? sharedSqsClient();
  const maxAttempts = options.maxAttempts ?? 3;
  const sleep = options.sleep ?? defaultSleep;
  const messageIds = new Map<string, string>();
  let pending = jobs;
  let lastError: unknown;
  for (let attempt = 1; attempt <= maxAttempts && pending.length > 0; attempt += 1) {
    if (attempt > 1) await sleep(50 * 2 ** (attempt - 2));
    const failed: CrmSyncJob[] = [];
    for (let start = 0; start < pending.length; start += 10) {
      const group = pending.slice(start, start + 10);
      const entries: SendMessageBatchRequestEntry[] = group.map((job, index) => ({
        Id: String(index),
        MessageBody: toMessageBody(job),
        MessageAttributes: {
          jobId: { DataType: 'String', StringValue: job.jobId },
          source: { DataType: 'String', StringValue: job.source },
        },
      }));
      try {
        const result = await client.send(new SendMessageBatchCommand({ QueueUrl: options.queueUrl, Entries: entries }));
        for (const ok of result.Successful ?? []) {
          const job = group[Number(ok.Id)];
          if (job && ok.MessageId) messageIds.set(job.jobId, ok.MessageId);
        }
        for (const bad of result.Failed ?? []) {
          const job = group[Number(bad.Id)];
          if (job) failed.push(job);
          lastError = new Error(`SQS refused an entry: ${bad.Code ?? 'unknown'}`);
        }
      } catch (error) {
        failed.push(...group);
        lastError = error;
      }
    }
    pending = failed;
  }
  if (pending.length > 0) throw new EnqueueError(pending.map((job) => job.jobId), { cause: lastError });
  return messageIds;
}
