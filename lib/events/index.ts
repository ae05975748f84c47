/**
 * Genesys conversation events from Amazon EventBridge (docs/api.md section 3): the envelope
 * parser, the pure decisions, what the function remembers, and the flow the handler runs.
 */
export { CONVERSATION_TOPICS, contentKeyOf, detailTypeOf, parseConversationEvent } from './envelope.ts';
export type { ConversationEvent, ConversationTopic, ParsedEvent } from './envelope.ts';
export { SESSION_REF_ATTRIBUTE, attributesToReassert, buildEndJob, buildLinkJob } from './plan.ts';
export type { EndFacts, LinkFacts } from './plan.ts';
export { CONVERSATION_ORDER_TTL_SECONDS, EventLedger, PROCESSED_EVENT_TTL_SECONDS } from './ledger.ts';
export { handleConversationEvent } from './process.ts';
export type { EventDependencies, EventResult, SessionDirectory } from './process.ts';
export { EVENTBRIDGE_INTEGRATION_TYPE, EVENTBRIDGE_TOPIC_FILTER, connectEventBridge, eventBridgeTargetProblem, operatorSteps } from './connect.ts';
export type { EventBridgeConnection, EventBridgeTarget } from './connect.ts';
