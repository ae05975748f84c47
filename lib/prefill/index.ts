/** Guest session prefill: validation, masking, coercion and size check (pure), and the route's flow (prepared session, PATCH when live, CRM job). */
export { prefillAudit } from './audit.ts';
export { prefillSession } from './service.ts';
export type { PrefillDependencies } from './service.ts';
