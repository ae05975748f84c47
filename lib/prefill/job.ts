/** The CRM sync job a prefill produces (docs/api.md section 5, `source: "prefill"`). */
import { buildJob, deterministicJobId, type CrmRecord, type CrmSyncJob } from '#lib/jobs';
import { isIdentityKey, type ProcessedPrefill } from './process.ts';

/**
 * One job per prefill: the session as `externalId`, the identity hashes, the consent
 * flags and the masked attributes. The identity keys are left out of `attributes` (the
 * hashes stand for them), so the CRM never overwrites a real email with asterisks. The
 * id is derived from the content only, so the same prefill always yields the same job.
 */
export function buildPrefillJob(sessionId: string, processed: ProcessedPrefill, now: Date = new Date()): CrmSyncJob {
  const attributes = Object.fromEntries(
    Object.entries(processed.attributes).filter(([key]) => !isIdentityKey(key)),
  );
  const content = {
    externalId: sessionId,
    ...(processed.emailHash ? { emailHash: processed.emailHash } : {}),
    ...(processed.phoneHash ? { phoneHash: processed.phoneHash } : {}),
    ...(processed.consentFlags ? { consentFlags: processed.consentFlags } : {}),
    attributes,
  };
  const at = now.toISOString();
  const record: CrmRecord = { ...content, lastInteraction: at, sourceUpdatedAt: at };
  return buildJob('prefill', deterministicJobId('prefill', content), record, now);
}
