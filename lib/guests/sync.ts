/**
 * The CRM sync job for a guest (docs/api.md section 5, source `guest`): the guest's stored
 * state after a create or an update, keyed by the guest id. Pure.
 */
import type { Guest } from './contact.ts';
import { buildJob, deterministicJobId, type CrmRecord, type CrmSyncJob, type JobScalar } from '#lib/jobs';

/** Only flat scalar values go to the CRM. */
function scalars(value: object | undefined): Record<string, JobScalar> | undefined {
  if (!value) return undefined;
  const entries = Object.entries(value).filter(
    (entry): entry is [string, JobScalar] =>
      typeof entry[1] === 'string' || typeof entry[1] === 'boolean' || (typeof entry[1] === 'number' && Number.isFinite(entry[1])),
  );
  return entries.length === 0 ? undefined : Object.fromEntries(entries);
}

/**
 * One job per guest version: the id comes from the guest id, its ETag and the record, so
 * the same version of the same guest always makes the same job id.
 */
export function guestSyncJob(guest: Guest, etag: string | undefined, enqueuedAt: Date = new Date()): CrmSyncJob {
  const identity = guest.identityAttributes ?? {};
  const consentFlags = scalars(guest.consent);
  const attributes = scalars(guest.attributes);
  const channelContext = scalars(guest.channelContext);
  const record: CrmRecord = {
    externalId: guest.id,
    ...(identity.emailHash ? { emailHash: identity.emailHash } : {}),
    ...(identity.phoneHash ? { phoneHash: identity.phoneHash } : {}),
    ...(consentFlags ? { consentFlags } : {}),
    ...(attributes ? { attributes } : {}),
    ...(channelContext ? { channelContext } : {}),
    lastInteraction: guest.modifiedDate,
    sourceUpdatedAt: guest.modifiedDate,
  };
  const jobId = deterministicJobId('guest', { guestId: guest.id, etag: etag ?? null, record });
  return buildJob('guest', jobId, record, enqueuedAt);
}
