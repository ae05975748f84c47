/** The authenticated widget configuration (docs/api.md section 2, `GET /widget/config`). */
export { widgetUserFromClaims } from './claims.ts';
export { DeploymentGate, DeploymentUnavailableError } from './deployment.ts';
export { messengerEnvironment } from './environment.ts';
export { widgetConfigurationFor } from './service.ts';
export { verifyConversationAttributes } from './verify.ts';
