/** The authenticated widget configuration (docs/api.md section 2, `GET /widget/config`). */
export { DeploymentGate } from './deployment.ts';
export { messengerEnvironment } from './environment.ts';
export { serveWidgetConfiguration } from './service.ts';
export type { WidgetDependencies } from './service.ts';
export { verifyConversationAttributes } from './verify.ts';
