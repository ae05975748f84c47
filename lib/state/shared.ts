/** The container's one state table instance (STYLE trait 2), configured from `STATE_TABLE_NAME`. */
import { loadConfig } from '#lib/config';
import { DynamoStateTable, resetSharedDynamoDbClientForTests } from './table.ts';

let table: DynamoStateTable | undefined;

/** The state table every function of this container shares. */
export function sharedStateTable(): DynamoStateTable {
  table ??= new DynamoStateTable({ tableName: loadConfig(['state']).state.tableName });
  return table;
}

/** Forgets the instance and its client, so a test can point them elsewhere. */
export function resetSharedStateTableForTests(): void {
  table = undefined;
  resetSharedDynamoDbClientForTests();
}
