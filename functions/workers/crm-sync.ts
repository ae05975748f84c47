/**
 * The CRM sync worker (SQS event source, ReportBatchItemFailures): batches of CRM sync
 * jobs become idempotent CRM batch upserts; permanent failures go to the DLQ with their
 * reason, transient ones back to SQS.
 */
import { loadAtColdStart, sqsStack } from '#lib/lambda';
import { loadSyncWorkerConfig, syncCrmBatch } from '#lib/sync';

const config = loadAtColdStart(() => loadSyncWorkerConfig());

export const handler = sqsStack((event, context) => syncCrmBatch(event, context, config));
