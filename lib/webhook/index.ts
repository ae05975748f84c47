/** Genesys webhooks: signature checks, the event shape and its job, the route's flow, and registration. */
export { signPayload } from './signature.ts';
export { sharedSigningSecrets } from './secrets.ts';
export { parseWebhookEvent, webhookJobId } from './event.ts';
export { acknowledgeWebhook } from './service.ts';
export { RotationAbandonedError, RotationError, rotateSigningSecret } from './rotation.ts';
