/** The CRM sync worker: planning (pure), failure rules, rate limit, breaker, DLQ, batch processing. */
export { breakerState, countsAgainstBreaker, createCrmBreaker } from './breaker.ts';
export type { BreakerState, CrmBreakerOptions } from './breaker.ts';
export {
  classifyRecordFailure,
  rejectedRequestCode,
  RETRIES_EXHAUSTED_CODE,
  safeFailureCode,
  UNSPECIFIED_FAILURE_CODE,
} from './classify.ts';
export type { FailureKind } from './classify.ts';
export { loadSyncWorkerConfig } from './config.ts';
export type { SyncWorkerConfig } from './config.ts';
export { FAILURE_ATTRIBUTES, deadLetterEntry, deadLetterJobId, sendDeadLetters } from './dead-letter.ts';
export type { DeadLetter, SendDeadLettersOptions } from './dead-letter.ts';
export { logBatch, publishBatchMetrics } from './observe.ts';
export { chunk, coalesce, compareJobs, idempotencyKey, outgoingRecord } from './plan.ts';
export type { CoalescedRecord, QueuedJob } from './plan.ts';
export { processBatch } from './processor.ts';
export type { BatchReport, BatchSummary, SyncPorts, SyncSettings } from './processor.ts';
export { RequestRateLimiter } from './rate-limit.ts';
export type { LimiterClock } from './rate-limit.ts';
export { resetSharedSyncForTests, sharedCrmBreaker, sharedCrmRateLimiter } from './shared.ts';
export { SAFETY_MARGIN_MS, syncCrmBatch } from './worker.ts';
