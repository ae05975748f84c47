/**
 * The suite's DynamoDB state table (docs/api.md section 1): one table, one string key, TTL
 * on every item that can expire, conditional writes where order matters.
 */
export { ConditionFailedError, SessionStoreError } from './errors.ts';
export { DynamoStateTable, sharedDynamoDbClient } from './table.ts';
export type { ConditionalPut, PutOutcome, StateItem, StateTable } from './table.ts';
export { sharedStateTable } from './shared.ts';
export { PreparedSessions, liveConversation } from './sessions.ts';
export type { PreparedSession } from './sessions.ts';
export { WriteLeases } from './leases.ts';
