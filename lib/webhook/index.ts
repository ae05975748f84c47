/** Genesys webhooks: signature checks, the event shape and its job, the route's flow, and registration. */
export { SIGNATURE_HEADER, isWellFormedSignature, signPayload, verifyLabelled, verifySignature } from './signature.ts';
export type { SignatureMatch } from './signature.ts';
export { DEFAULT_REFRESH_INTERVAL_MS, SigningSecrets, sharedSigningSecrets } from './secrets.ts';
export type { SigningSecretsOptions } from './secrets.ts';
export {
  ATTRIBUTES_UPDATED_EVENT,
  MAX_EVENT_SKEW_MS,
  assertFresh,
  buildWebhookJob,
  parseWebhookEvent,
  webhookJobId,
} from './event.ts';
export type { WebhookEvent } from './event.ts';
export { webhookAudit, webhookRejectionReason } from './audit.ts';
export type { WebhookDelivery, WebhookRejectionReason } from './audit.ts';
export { acknowledgeWebhook } from './service.ts';
export type { WebhookAcknowledgement, WebhookDependencies, WebhookRequest } from './service.ts';
export { RotationAbandonedError, RotationError, StaleEventError } from './errors.ts';
export type { RotationFailureKind } from './errors.ts';
export { generateSigningSecret, rotateSigningSecret } from './rotation.ts';
export type { RotateSigningSecretOptions, SigningSecretRotation } from './rotation.ts';
