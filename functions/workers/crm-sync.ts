/**
 * The CRM sync worker (SQS event source, ReportBatchItemFailures): batches of CRM sync
 * jobs become batch upserts into the CRM `CRM_PROVIDER` names, never back in time and
 * never twice (record versions and finished chunks in the state table); permanent
 * failures go to the DLQ with their reason, transient ones back to SQS; an outage or a
 * daily quota pauses the sync (the state table's pause item) instead of spending the
 * queue's receives.
 */
import { configAtColdStart } from '#lib/config';
import { sqsStack } from '#lib/lambda';
import { sharedStateTable } from '#lib/state';
import { syncCrmBatch } from '#lib/sync';

const config = configAtColdStart(['crm', 'worker']);
const dependencies = { store: () => sharedStateTable(config().worker) };

export const handler = sqsStack((event, context) => syncCrmBatch(event, context, config, dependencies));
