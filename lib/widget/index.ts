/** The authenticated widget configuration (contract section 2, `GET /widget/config`). */
export { candidateAttributes, filterGuestAttributes } from './attributes.ts';
export type { DroppedReason, FilteredAttributes } from './attributes.ts';
export { widgetUserFromClaims } from './claims.ts';
export type { WidgetUser } from './claims.ts';
export { buildWidgetConfiguration } from './config.ts';
export type { WidgetConfiguration } from './config.ts';
export { DEPLOYMENT_CACHE_TTL_MS, DeploymentGate, DeploymentUnavailableError } from './deployment.ts';
export { findGuestParticipant, verifyConversationAttributes } from './verify.ts';
export type { AttributeCheck, ConversationVerification } from './verify.ts';
