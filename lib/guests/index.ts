/** Guests (docs/api.md section 2, `/guests`): Genesys external contacts with hashed identity, merge-on-conflict under a lease, metrics from analytics, audit, set-up, sync jobs. */
export { actorOf } from './audit.ts';
export { GUEST_AUDIT_SERVICE, formatAuditTable, queryGuestAudit } from './audit-query.ts';
export { measureGuest } from './metrics.ts';
export type { CreateGuestBody, UpdateGuestBody } from './schema.ts';
export { createGuest, updateGuest } from './service.ts';
export { ensureGuestSetup } from './setup.ts';
export { readGuest } from './store.ts';
export { validateCreateGuestBody, validateUpdateGuestBody } from './validate.ts';
