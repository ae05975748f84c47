/**
 * The SQS producer for CRM sync jobs: `SendMessageBatch` in groups of ten, failed entries
 * retried, message attributes for operators (job id, source), and a last guard that
 * masks any identifier that slipped into a record, so no plaintext email, phone or SSN
 * ever reaches the queue.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { awsRequestHandler, withDeadline } from '#lib/net';
import { sendSqsBatches } from '#lib/net/sqs';
import { logger, MetricNames, metrics } from '#lib/observability';
import { maskDeep } from '#lib/pii';
import { EnqueueError } from './errors.ts';
import type { CrmSyncJob } from './job.ts';
import type { Outbox } from './outbox.ts';

let sharedClient: SQSClient | undefined;

/**
 * The container's SQS client. No explicit endpoint: AWS_ENDPOINT_URL_SQS (set by the
 * local stack) or the region decides; queue URLs are never used as endpoints.
 */
export function sharedSqsClient(): SQSClient {
  // Bounded so a stalled SQS connection cannot hold a handler past its Lambda timeout.
  sharedClient ??= new SQSClient({ useQueueUrlAsEndpoint: false, requestHandler: awsRequestHandler(3_000) });
  return sharedClient;
}

/** Drops the shared client so a test can build it again. */
export function resetSharedSqsClientForTests(): void {
  sharedClient?.destroy();
  sharedClient = undefined;
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
  /**
   * The whole time enqueueing may take, SQS and outbox together (default 4 s). Callers in
   * a Lambda pass what the invocation has left, less a moment to answer.
   */
  budgetMs?: number;
  /**
   * Where jobs SQS did not take in time wait for the sweep. Without one, such jobs raise
   * EnqueueError (the sweep itself sends this way: its jobs are already in the outbox).
   */
  outbox?: Outbox;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** What became of the jobs: on the queue, or kept in the outbox for the sweep. */
export interface EnqueueResult {
  /** Message id of each job SQS took. */
  messageIds: Map<string, string>;
  /** Job ids kept in the outbox (the sync is pending, not lost). */
  pending: string[];
}

/** Time kept for the outbox write after SQS gave up (a DynamoDB put, retried once). */
export const OUTBOX_RESERVE_MS = 1_200;

/** What a route hands the producer for its sync job: the queue, the outbox and the time the enqueue may take. */
export interface JobIntake {
  queueUrl: string;
  /** Replaces `enqueueJobs` (tests pass a double). */
  enqueue?: (jobs: CrmSyncJob[], options: EnqueueOptions) => Promise<EnqueueResult>;
  /** Where jobs SQS did not take in time wait for the sweep. */
  outbox?: Outbox;
  /** Time the enqueue may take (SQS, then the outbox): what the invocation has left, less a moment to answer. */
  enqueueDeadline?: { remainingMs(): number };
}

/** Queues one route's job through its intake and counts it; rejects as `enqueueJobs` does, so the route names what was not queued. */
export async function enqueueThroughIntake(intake: JobIntake, job: CrmSyncJob): Promise<void> {
  await (intake.enqueue ?? enqueueJobs)([job], {
    queueUrl: intake.queueUrl,
    ...(intake.outbox ? { outbox: intake.outbox } : {}),
    ...(intake.enqueueDeadline ? { budgetMs: intake.enqueueDeadline.remainingMs() } : {}),
  });
  metrics.addMetric(MetricNames.JobsEnqueued, MetricUnit.Count, 1);
}

/** What a handler keeps back from its remaining time after the enqueue, to answer. */
export const ENQUEUE_ANSWER_MARGIN_MS = 500;

/** The most SQS gets of an enqueue's budget: it answers in milliseconds when it is well. */
export const SQS_SEND_BUDGET_MS = 3_000;

/** Default whole budget of one enqueue. */
export const DEFAULT_ENQUEUE_BUDGET_MS = 4_000;

/** One message as it goes to SQS: its body and the attributes operators filter on. */
export interface OutgoingMessage {
  jobId: string;
  source: string;
  body: string;
}

/** The message of a job. */
export function toOutgoingMessage(job: CrmSyncJob): OutgoingMessage {
  return { jobId: job.jobId, source: job.source, body: toMessageBody(job) };
}

/**
 * Sends messages with SendMessageBatch (ten per call) until `budgetMs` runs out, through
 * the one SQS batch sender (`#lib/net/sqs`): refused entries and failed or stalled calls
 * retried while time remains. Resolves with the message ids of those sent (by job id) and
 * the messages that were not, with the last reason; never throws.
 */
export async function sendMessages(
  messages: OutgoingMessage[],
  options: { queueUrl: string; client?: SQSClient; maxAttempts?: number; budgetMs: number; sleep?: (ms: number) => Promise<void>; now?: () => number },
): Promise<{ messageIds: Map<string, string>; unsent: OutgoingMessage[]; reason?: string }> {
  const result = await sendSqsBatches(messages, {
    queueUrl: options.queueUrl,
    client: options.client ?? sharedSqsClient(),
    entry: (message, id) => ({
      Id: id,
      MessageBody: message.body,
      MessageAttributes: {
        jobId: { DataType: 'String', StringValue: message.jobId },
        source: { DataType: 'String', StringValue: message.source },
      },
    }),
    budgetMs: options.budgetMs,
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  const messageIds = new Map<string, string>();
  for (const [message, messageId] of result.messageIds) messageIds.set(message.jobId, messageId);
  return { messageIds, unsent: result.unsent, ...(result.reason !== undefined ? { reason: result.reason } : {}) };
}

/**
 * Queues jobs: SQS first, within the budget less the outbox's reserve; whatever SQS did
 * not take in time goes to the outbox, where the scheduled sweep re-sends it until SQS
 * takes it. Throws EnqueueError (naming the job ids, never their content) only when a job
 * is neither on the queue nor in the outbox.
 */
export async function enqueueJobs(jobs: CrmSyncJob[], options: EnqueueOptions): Promise<EnqueueResult> {
  const now = options.now ?? Date.now;
  const budgetMs = options.budgetMs ?? DEFAULT_ENQUEUE_BUDGET_MS;
  const reserve = options.outbox ? Math.min(OUTBOX_RESERVE_MS, budgetMs / 2) : 0;
  const started = now();
  const sent = await sendMessages(jobs.map(toOutgoingMessage), {
    queueUrl: options.queueUrl,
    budgetMs: Math.max(0, Math.min(SQS_SEND_BUDGET_MS, budgetMs - reserve)),
    now,
    ...(options.client ? { client: options.client } : {}),
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
  });
  if (sent.unsent.length === 0) return { messageIds: sent.messageIds, pending: [] };
  const unsentIds = sent.unsent.map((message) => message.jobId);
  if (!options.outbox) throw new EnqueueError(unsentIds, { cause: new Error(sent.reason ?? 'not sent') });
  try {
    const left = Math.max(100, budgetMs - (now() - started));
    await withDeadline(left, () => options.outbox!.keep(sent.unsent, sent.reason ?? 'not sent'));
  } catch (cause) {
    throw new EnqueueError(unsentIds, { cause });
  }
  metrics.addMetric(MetricNames.JobsKeptInOutbox, MetricUnit.Count, unsentIds.length);
  logger.warn('CRM sync jobs kept in the outbox; the sweep sends them when SQS takes them', {
    jobIds: unsentIds,
    reason: sent.reason,
  });
  return { messageIds: sent.messageIds, pending: unsentIds };
}
