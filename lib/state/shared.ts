/** The container's one state table instance (STYLE trait 2), configured from the `state` section (`STATE_TABLE_NAME`). */
import type { StateConfig } from '#lib/config';
import { ConfigError } from '#lib/errors';
import { DynamoStateTable, resetSharedDynamoDbClientForTests } from './table.ts';

let table: DynamoStateTable | undefined;

/**
 * The state table every function of this container shares. A configuration without one
 * (the CRM sync worker's bare set-up, where STATE_TABLE_NAME is optional) fails each use
 * with the ConfigError a missing STATE_TABLE_NAME always gives.
 */
export function sharedStateTable(config: { state?: StateConfig | undefined }): DynamoStateTable {
  if (!table) {
    if (!config.state) throw new ConfigError('Invalid configuration: STATE_TABLE_NAME is required', ['STATE_TABLE_NAME']);
    table = new DynamoStateTable({ tableName: config.state.tableName });
  }
  return table;
}

/** Forgets the instance and its client, so a test can point them elsewhere. */
export function resetSharedStateTableForTests(): void {
  table = undefined;
  resetSharedDynamoDbClientForTests();
}
