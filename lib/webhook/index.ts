/** Genesys webhooks: signature checks, the event shape and its job, the route's flow, and registration. */
export { signPayload } from './signature.ts';
export { sharedSigningSecrets } from './secrets.ts';
export { parseWebhookEvent, webhookJobId } from './event.ts';
export { webhookAudit } from './audit.ts';
export { acknowledgeWebhook } from './service.ts';
export type { WebhookDependencies } from './service.ts';
export { RotationAbandonedError, RotationError } from './errors.ts';
export { rotateSigningSecret } from './rotation.ts';
