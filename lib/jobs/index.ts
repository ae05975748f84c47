/** CRM sync jobs: the message shape, deterministic ids and the SQS producer. */
export { JOB_SOURCES, buildJob, canonicalJson, deterministicJobId } from './job.ts';
export type { CrmRecord, CrmSyncJob, JobScalar, JobSource } from './job.ts';
export { EnqueueError, enqueueJobs, resetSharedSqsClientForTests, sharedSqsClient, toMessageBody } from './producer.ts';
export type { EnqueueOptions } from './producer.ts';
export { INVALID_JOB_CODE, parseJob } from './parse.ts';
export type { ParsedJob } from './parse.ts';
