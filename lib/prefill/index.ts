/** Guest session prefill: validation, masking, coercion and size check (pure), and the route's flow (prepared session, PATCH when live, CRM job). */
export { prefillSession } from './service.ts';
