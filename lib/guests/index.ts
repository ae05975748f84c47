/** Guests (docs/api.md section 2, `/guests`): Genesys external contacts with hashed identity, merge-on-conflict under a lease, metrics from analytics, audit, set-up, sync jobs. */
export { actorOf, guestAudit } from './audit.ts';
export { GuestSyncNotQueuedError, GuestUpdateConflictError } from './errors.ts';
export type { GuestAuditEntry, GuestAuditEvent, GuestAuditFacts } from './audit.ts';
export { GUEST_AUDIT_SERVICE, formatAuditTable, queryGuestAudit, resolveAuditService } from './audit-query.ts';
export type { GuestAuditQuery } from './audit-query.ts';
export {
  applyChanges,
  assertStorable,
  changedFieldNames,
  changesFromBody,
  createGuestFields,
  maskAttributes,
  minimiseOriginPage,
} from './changes.ts';
export type { GuestChanges } from './changes.ts';
export { guestEtag, guestExternalIdValue, guestFromContact } from './contact.ts';
export type {
  Guest,
  GuestAttributeValue,
  GuestChannelContext,
  GuestConsent,
  GuestContactSettings,
  GuestFields,
  GuestIdentityAttributes,
} from './contact.ts';
export { engagementMetrics, measureGuest } from './metrics.ts';
export type { EngagementMetrics } from './metrics.ts';
export {
  ATTRIBUTE_KEY_PATTERN,
  CAMPAIGN_ID_PATTERN,
  HASH_PATTERN,
  MAX_ATTRIBUTES,
  MAX_DEVICE_FINGERPRINT,
  createGuestSchema,
  updateGuestSchema,
} from './schema.ts';
export type {
  ChannelContextInput,
  ConsentInput,
  CreateGuestBody,
  IdentityAttributesInput,
  UpdateGuestBody,
} from './schema.ts';
export { createGuest, getGuest, getGuestMetrics, updateGuest } from './service.ts';
export type { GuestDependencies, GuestReadDependencies, GuestWriteResult } from './service.ts';
export {
  GUEST_CONTACT_SCHEMA_BODY,
  GUEST_CONTACT_SCHEMA_NAME,
  GUEST_EXTERNAL_SOURCE_BODY,
  GUEST_EXTERNAL_SOURCE_NAME,
  ensureGuestSetup,
  guestSetupSeed,
} from './setup.ts';
export type { GuestSetup } from './setup.ts';
export { readGuest } from './store.ts';
export type { GuestGenesys, StoredGuest } from './store.ts';
export { guestSyncJob } from './sync.ts';
export { ifMatchSatisfiedBy, updateGuestWithMerge } from './update.ts';
export type { GuestUpdateOptions, GuestUpdateResult } from './update.ts';
export { validateCreateGuestBody, validateUpdateGuestBody } from './validate.ts';
