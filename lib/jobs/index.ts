/**
 * CRM sync jobs: the message shape, deterministic ids, the SQS producer and the outbox.
 * The consumer's validation (ajv) is imported from `#lib/jobs/parse`, so producers never load ajv.
 */
export { JOB_SOURCES, buildJob, canonicalJson, deterministicJobId } from './job.ts';
export type { CrmRecord, CrmSyncJob, JobScalar, JobSource } from './job.ts';
export { EnqueueError } from './errors.ts';
export { ENQUEUE_ANSWER_MARGIN_MS, enqueueJobs, enqueueThroughIntake, resetSharedSqsClientForTests, sendMessages, sharedSqsClient, toMessageBody } from './producer.ts';
export type { EnqueueOptions, EnqueueResult, JobIntake } from './producer.ts';
export { Outbox } from './outbox.ts';
export type { OutboxItem } from './outbox.ts';
export { resetSharedOutboxForTests, sharedOutbox } from './shared.ts';
export { runOutboxSweep, sweepOutbox } from './sweep.ts';
export type { SweepDependencies, SweepReport } from './sweep.ts';
