/**
 * CRM sync jobs: the message shape, deterministic ids and the SQS producer. The consumer's
 * validation (ajv) is imported from `#lib/jobs/parse`, so producers never load ajv.
 */
export { JOB_SOURCES, buildJob, canonicalJson, deterministicJobId } from './job.ts';
export type { CrmRecord, CrmSyncJob, JobScalar, JobSource } from './job.ts';
export { EnqueueError, enqueueJobs, resetSharedSqsClientForTests, sharedSqsClient, toMessageBody } from './producer.ts';
export type { EnqueueOptions } from './producer.ts';
