/** Guests (docs/api.md section 2, `/guests`): Genesys external contacts with hashed identity, merge-on-conflict under a lease, metrics from analytics, audit, set-up, sync jobs. */
export { guestAudit } from './audit.ts';
export type { GuestAuditFacts } from './audit.ts';
export { GUEST_AUDIT_SERVICE, formatAuditTable, queryGuestAudit } from './audit-query.ts';
export type { CreateGuestBody, UpdateGuestBody } from './schema.ts';
export { createGuest, getGuest, getGuestMetrics, updateGuest } from './service.ts';
export type { GuestDependencies, GuestReadDependencies } from './service.ts';
export { ensureGuestSetup } from './setup.ts';
export { validateCreateGuestBody, validateUpdateGuestBody } from './validate.ts';
