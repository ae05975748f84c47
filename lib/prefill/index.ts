/** Guest session prefill: validation, masking, coercion and size check (pure), and the route's flow (prepared session, PATCH when live, CRM job). */
export { MAX_PREFILL_KEYS, PREFILL_KEY_PATTERN, validatePrefillBody } from './schema.ts';
export type { PrefillBody, PrefillScalar } from './schema.ts';
export { IDENTITY_KEYS, isIdentityKey, MAX_PREFILL_BYTES, coerceValue, hasIdentityValues, maskValue, messengerAttributes, processPrefill } from './process.ts';
export type { ProcessedPrefill } from './process.ts';
export { buildPrefillJob } from './job.ts';
export { AttributesTooLargeError, SyncNotQueuedError } from './errors.ts';
export { parseJsonBody } from './parse.ts';
export { prefillAudit, prefillFailureReason } from './audit.ts';
export type { PrefillAttempt, PrefillFailureReason } from './audit.ts';
export { prefillSession } from './service.ts';
export type { PrefillDependencies, PrefillRequest, PrefillResult } from './service.ts';
