/**
 * The CRM sync control (every minute, and woken by the worker when it sees an outage):
 * keeps the worker's SQS event source mapping disabled while the CRM cannot take work,
 * probes the CRM at most once a minute, and re-enables the mapping when it answers.
 */
import { configAtColdStart } from '#lib/config';
import { scheduleStack } from '#lib/lambda';
import { sharedStateTable } from '#lib/state';
import { runSyncControl } from '#lib/sync';

const config = configAtColdStart(['crm', 'control', 'state']);
const dependencies = { store: () => sharedStateTable(config()) };

export const handler = scheduleStack(() => runSyncControl(config, dependencies));
