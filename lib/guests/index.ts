/** Guest sessions (contract section 2, `/guests`): schemas, minimisation, merge-on-conflict, metrics, audit, sync jobs. */
export { actorOf, writeAuditEntry } from './audit.ts';
export type { GuestAuditEntry, GuestAuditEvent } from './audit.ts';
export { formatAuditTable, queryGuestAudit } from './audit-query.ts';
export type { GuestAuditQuery } from './audit-query.ts';
export {
  applyChanges,
  changedFieldNames,
  changesFromBody,
  createGuestRequest,
  maskAttributes,
  minimiseOriginPage,
} from './changes.ts';
export type { GuestChanges } from './changes.ts';
export { engagementMetrics } from './metrics.ts';
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
export { createGuest, measureGuest, updateGuest } from './service.ts';
export type { GuestDependencies, GuestWriteResult } from './service.ts';
export { guestSyncJob } from './sync.ts';
export { ifMatchSatisfiedBy, updateGuestWithMerge } from './update.ts';
export type { GuestStore, GuestUpdateOptions, GuestUpdateResult } from './update.ts';
export { validateCreateGuestBody, validateUpdateGuestBody } from './validate.ts';
