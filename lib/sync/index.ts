/**
 * The CRM sync worker's surface: the batch the worker function runs and the control
 * function's run. Planning, failure rules, rate limit, DLQ, batch processing and the outage
 * pause are this folder's internals (their tests import them from the module file).
 */
export { runSyncControl } from './control-run.ts';
export { syncCrmBatch } from './worker.ts';
