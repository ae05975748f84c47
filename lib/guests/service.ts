/**
 * The guest routes' work, apart from HTTP: create or update through Genesys, note what was
 * written for the audit entry, and enqueue the CRM sync job. Dependencies come in as
 * arguments, so tests can pass doubles.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Deadline } from '#lib/genesys';
import { enqueueThroughIntake, type JobIntake } from '#lib/jobs';
import { MetricNames, metrics } from '#lib/observability';
import type { WriteLeases } from '#lib/state';
import type { GuestAuditFacts } from './audit.ts';
import { GuestSyncNotQueuedError } from './errors.ts';
import { changedFieldNames, changesFromBody, createGuestFields } from './changes.ts';
import type { Guest, GuestContactSettings } from './contact.ts';
import type { CreateGuestBody, UpdateGuestBody } from './schema.ts';
import { measureGuest, type EngagementMetrics } from './metrics.ts';
import { createGuestContact, readGuest, type GuestGenesys, type StoredGuest } from './store.ts';
import { guestSyncJob } from './sync.ts';
import { updateGuestWithMerge } from './update.ts';

/** What the guest routes need from the outside world. */
export interface GuestDependencies extends JobIntake {
  genesys: GuestGenesys;
  /** The external source and contact schema guests use. */
  settings: GuestContactSettings;
  /** The identity-hash salt (from the identity-salt secret, never a default). */
  identitySalt(): Promise<string>;
  deadline?: Deadline;
  now?: () => Date;
}

/** A guest as written, with its version and the sync job made for it. */
export interface GuestWriteResult {
  guest: Guest;
  etag: string;
  syncJobId: string;
}

/**
 * Enqueues the guest's sync job. The guest is already written, so a queue failure is a
 * 502 that names the guest (the caller knows the write happened) rather than a silent loss.
 */
async function enqueueSync(guest: Guest, etag: string, deps: GuestDependencies): Promise<string> {
  const job = guestSyncJob(guest, etag, deps.now?.() ?? new Date());
  try {
    await enqueueThroughIntake(deps, job);
  } catch (error) {
    throw new GuestSyncNotQueuedError(guest.id, job.jobId, error);
  }
  return job.jobId;
}

/** `POST /guests`: hash, minimise, create the external contact (never two), note `GUEST_CREATED` for the audit, enqueue. */
export async function createGuest(body: CreateGuestBody, deps: GuestDependencies, audit: Partial<GuestAuditFacts> = {}): Promise<GuestWriteResult> {
  const { changes, identity, maskedKeys } = changesFromBody(body, await deps.identitySalt());
  const fields = createGuestFields(body.consent, changes);
  const created = await createGuestContact(deps.genesys, deps.settings, fields, deps.deadline ? { deadline: deps.deadline } : {});
  Object.assign(audit, {
    eventType: 'GUEST_CREATED',
    guestId: created.guest.id,
    changedFields: changedFieldNames({ ...changes, consent: fields.consent }),
    resolutionMethod: identity.resolutionMethod,
    maskedAttributes: maskedKeys,
  } satisfies GuestAuditFacts);
  metrics.addMetric(MetricNames.GuestsCreated, MetricUnit.Count, 1);
  const syncJobId = await enqueueSync(created.guest, created.etag, deps);
  return { guest: created.guest, etag: created.etag, syncJobId };
}

/** `PATCH /guests/{guestId}`: hash, merge onto the latest version under the guest's lease, note `GUEST_UPDATED` for the audit, enqueue. */
export async function updateGuest(
  guestId: string,
  ifMatch: string,
  body: UpdateGuestBody,
  deps: GuestDependencies & { leases: WriteLeases },
  audit: Partial<GuestAuditFacts> = {},
): Promise<GuestWriteResult & { conflictsResolved: number }> {
  const { changes, maskedKeys } = changesFromBody(body, await deps.identitySalt());
  const result = await updateGuestWithMerge(deps.genesys, deps.settings, guestId, ifMatch, changes, {
    leases: deps.leases,
    ...(deps.deadline ? { deadline: deps.deadline } : {}),
  });
  Object.assign(audit, {
    eventType: 'GUEST_UPDATED',
    guestId,
    changedFields: changedFieldNames(changes),
    conflictsResolved: result.conflictsResolved,
    maskedAttributes: maskedKeys,
  } satisfies GuestAuditFacts);
  metrics.addMetric(MetricNames.GuestsUpdated, MetricUnit.Count, 1);
  if (result.conflictsResolved > 0) {
    metrics.addMetric(MetricNames.GuestConflictsResolved, MetricUnit.Count, result.conflictsResolved);
  }
  const syncJobId = await enqueueSync(result.guest, result.etag, deps);
  return { guest: result.guest, etag: result.etag, syncJobId, conflictsResolved: result.conflictsResolved };
}

/** What the read routes need: the Genesys client, the guests' contact settings, the time left. */
export type GuestReadDependencies = Pick<GuestDependencies, 'genesys' | 'settings' | 'deadline'>;

/** `GET /guests/{guestId}`: the guest as its external contact holds it, with its ETag. */
export function getGuest(guestId: string, deps: GuestReadDependencies): Promise<StoredGuest> {
  return readGuest(deps.genesys, deps.settings, guestId, deps.deadline);
}

/** `GET /guests/{guestId}/metrics`: the guest's engagement over the last `days` days. */
export function getGuestMetrics(guestId: string, deps: GuestReadDependencies & { days: number }): Promise<EngagementMetrics> {
  return measureGuest(deps.genesys, deps.settings, guestId, { days: deps.days, ...(deps.deadline ? { deadline: deps.deadline } : {}) });
}
