/**
 * The suite's DynamoDB state table (docs/api.md section 1): one table, one string key, TTL
 * on every item that can expire, conditional writes where order matters.
 */
export { ConditionFailedError, SessionStoreError } from './errors.ts';
export {
  DynamoStateTable,
  MemoryStateTable,
  STATE_CALL_BUDGET_MS,
  resetSharedDynamoDbClientForTests,
  sharedDynamoDbClient,
} from './table.ts';
export type { ConditionalPut, IndexQuery, PutCondition, PutOutcome, StateItem, StateTable } from './table.ts';
export { resetSharedStateTableForTests, sharedStateTable } from './shared.ts';
export { CONVERSATION_LINK_TTL_SECONDS, PreparedSessions, SESSION_REF_PATTERN, liveConversation, newSessionRef } from './sessions.ts';
export type { ConversationLink, PreparedSession } from './sessions.ts';
export { WriteLeases } from './leases.ts';
export type { AcquireOptions, HeldLease } from './leases.ts';
