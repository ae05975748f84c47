/**
 * CRM sync jobs: the message shape, deterministic ids, the SQS producer and the outbox.
 * The consumer's validation (ajv) is imported from `#lib/jobs/parse`, so producers never load ajv.
 */
export { buildJob, canonicalJson, deterministicJobId } from './job.ts';
export type { CrmRecord, CrmSyncJob, JobScalar } from './job.ts';
export { EnqueueError } from './errors.ts';
export { ENQUEUE_ANSWER_MARGIN_MS, enqueueJobs, enqueueThroughIntake, sendMessages, sharedSqsClient, toMessageBody } from './producer.ts';
export type { JobIntake } from './producer.ts';
export { sharedOutbox } from './shared.ts';
export { runOutboxSweep } from './sweep.ts';
