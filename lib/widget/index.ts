/** The authenticated widget configuration (docs/api.md section 2, `GET /widget/config`). */
export { candidateAttributes, filterGuestAttributes } from './attributes.ts';
export type { DroppedReason, FilteredAttributes } from './attributes.ts';
export { widgetUserFromClaims } from './claims.ts';
export type { WidgetUser } from './claims.ts';
export { buildWidgetConfiguration, widgetAttributes, widgetSessionId } from './config.ts';
export type { WidgetConfiguration } from './config.ts';
export { DEPLOYMENT_CACHE_TTL_MS, DeploymentGate } from './deployment.ts';
export { DeploymentUnavailableError } from './errors.ts';
export { LOCAL_MESSENGER_ENVIRONMENT, MESSENGER_ENVIRONMENTS, messengerEnvironment } from './environment.ts';
export { serveWidgetConfiguration, widgetConfigurationFor } from './service.ts';
export type { WidgetDependencies } from './service.ts';
export { findGuestParticipant, verifyConversationAttributes } from './verify.ts';
export type { AttributeCheck, ConversationVerification } from './verify.ts';
