/**
 * Genesys conversation events from Amazon EventBridge (docs/api.md section 3): the envelope
 * parser, the pure decisions, what the function remembers, and the flow the handler runs.
 */
export { EventLedger } from './ledger.ts';
export { handleConversationEvent } from './process.ts';
export type { EventDependencies } from './process.ts';
export { connectEventBridge, eventBridgeTargetProblem, operatorSteps } from './connect.ts';
export type { EventBridgeTarget } from './connect.ts';
