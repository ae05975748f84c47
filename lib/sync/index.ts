/** The CRM sync worker: planning (pure), failure rules, rate limit, DLQ, batch processing, the outage pause and its control. */
export {
  classifyRecordFailure,
  rejectedRequestCode,
  RETRIES_EXHAUSTED_CODE,
  safeFailureCode,
  UNSPECIFIED_FAILURE_CODE,
} from './classify.ts';
export type { FailureKind } from './classify.ts';
export { controlCrmSync } from './control.ts';
export type { ControlAction, ControlPorts, ControlReport } from './control.ts';
export { runSyncControl } from './control-run.ts';
export type { SyncControlConfig, SyncControlDeps } from './control-run.ts';
export { invokeAsync, lambdaMapping, mappingStateOf, resetSharedLambdaClientForTests, sharedLambdaClient } from './lambda.ts';
export type { MappingPort, MappingState } from './lambda.ts';
export { breakerOutage, LIMIT_RETRY_AFTER_MS, outageOf, probeResultOf } from './outage.ts';
export type { OutageSignal, ProbeResult } from './outage.ts';
export { holdsAt, PAUSE_KEY, readPause, requestPause } from './pause.ts';
export type { PauseItem, PauseKind, PauseRequest, PauseStore } from './pause.ts';
export { PROBE_EMAIL, probeAdapter, probeCrm } from './probe.ts';
export { holdBackMessages, parseQueueArn, queueUrlBeside, queueUrlOf, RESEND_COUNT_ATTRIBUTE, resendEntry, resendMessages, resetQueueUrlsForTests } from './requeue.ts';
export { FAILURE_ATTRIBUTES, deadLetterEntry, deadLetterJobId, sendDeadLetters } from './dead-letter.ts';
export type { DeadLetter, SendDeadLettersOptions } from './dead-letter.ts';
export { logBatch, publishBatchMetrics } from './observe.ts';
export { chunk, coalesce, compareJobs, fieldPaths, idempotencyKey, laterTime, mergeRecords, outgoingRecord, pickFields, versionOf } from './plan.ts';
export type { CoalescedRecord, QueuedJob } from './plan.ts';
export { PERMISSION_DENIED_CODE, processBatch } from './processor.ts';
export type { BatchReport, BatchSummary, HeldOutcome, SyncPorts, SyncSettings, VersionPort } from './processor.ts';
export { CHUNK_PREFIX, CHUNK_TTL_SECONDS, dynamoPersistence, isFinal, powertoolsChunkLedger } from './chunks.ts';
export type { ChunkLedger, ChunkRun } from './chunks.ts';
export { mayStillSend, RecordVersions, VERSION_PREFIX, VERSION_TTL_SECONDS, versionOrder, viewOf } from './versions.ts';
export type { ClaimRequest, ClaimResult, FieldVersions, SentFields, VersionItem, VersionStore, VersionView } from './versions.ts';
export { adapterHeld, adapterUpsert, resetSharedCrmAdapterForTests, sharedCrmAdapter, toBatchOutcome } from './crm-port.ts';
export type { BudgetObserver } from './crm-port.ts';
export { RequestRateLimiter, WINDOW_HEADROOM, WORKER_CONTAINERS, defaultDailyReserve } from './rate-limit.ts';
export type { BudgetOptions, LimiterClock } from './rate-limit.ts';
export { resetSharedSyncForTests, sharedCrmBreaker, sharedCrmRateLimiter } from './shared.ts';
export { pausePorts, SAFETY_MARGIN_MS, sharedChunkLedger, syncCrmBatch } from './worker.ts';
export type { SyncWorkerConfig, SyncWorkerDeps } from './worker.ts';
