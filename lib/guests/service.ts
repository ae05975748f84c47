/**
 * The guest routes' work, apart from HTTP: create or update through Genesys, audit, and
 * enqueue the CRM sync job. Dependencies come in as arguments, so tests can pass doubles.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DependencyError } from '#lib/errors';
import type { Deadline } from '#lib/genesys';
import { EnqueueError, enqueueJobs, type CrmSyncJob, type EnqueueOptions, type EnqueueResult, type Outbox } from '#lib/jobs';
import { MetricNames, metrics } from '#lib/observability';
import type { WriteLeases } from '#lib/state';
import { writeAuditEntry } from './audit.ts';
import { changedFieldNames, changesFromBody, createGuestFields } from './changes.ts';
import type { Guest, GuestContactSettings } from './contact.ts';
import type { CreateGuestBody, UpdateGuestBody } from './schema.ts';
import { createGuestContact, type GuestGenesys } from './store.ts';
import { guestSyncJob } from './sync.ts';
import { updateGuestWithMerge } from './update.ts';

/** What the guest routes need from the outside world. */
export interface GuestDependencies {
  genesys: GuestGenesys;
  /** The external source and contact schema guests use. */
  settings: GuestContactSettings;
  /** The identity-hash salt (from the identity-salt secret, never a default). */
  salt: string;
  queueUrl: string;
  deadline?: Deadline;
  /** Who is calling, for the audit entry. */
  actor: string;
  requestId: string;
  enqueue?: (jobs: CrmSyncJob[], options: EnqueueOptions) => Promise<EnqueueResult>;
  /** Where jobs SQS did not take in time wait for the sweep. */
  outbox?: Outbox;
  /** Time the enqueue may take (SQS, then the outbox): what the invocation has left, less a moment to answer. */
  enqueueDeadline?: Deadline;
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
    await (deps.enqueue ?? enqueueJobs)([job], {
      queueUrl: deps.queueUrl,
      ...(deps.outbox ? { outbox: deps.outbox } : {}),
      ...(deps.enqueueDeadline ? { budgetMs: deps.enqueueDeadline.remainingMs() } : {}),
    });
  } catch (error) {
    const failure =
      error instanceof EnqueueError
        ? error
        : new DependencyError('The CRM sync job could not be queued.', 502, { cause: error });
    Object.assign(failure.extensions, { guestId: guest.id, syncJobId: job.jobId, guestWritten: true });
    throw failure;
  }
  metrics.addMetric(MetricNames.JobsEnqueued, MetricUnit.Count, 1);
  return job.jobId;
}

/** `POST /guests`: hash, minimise, create the external contact (never two), audit `GUEST_CREATED`, enqueue. */
export async function createGuest(body: CreateGuestBody, deps: GuestDependencies): Promise<GuestWriteResult> {
  const { changes, identity, maskedKeys } = changesFromBody(body, deps.salt);
  const fields = createGuestFields(body.consent, changes);
  const created = await createGuestContact(deps.genesys, deps.settings, fields, deps.deadline ? { deadline: deps.deadline } : {});
  writeAuditEntry({
    eventType: 'GUEST_CREATED',
    guestId: created.guest.id,
    actor: deps.actor,
    changedFields: changedFieldNames({ ...changes, consent: fields.consent }),
    resolutionMethod: identity.resolutionMethod,
    ...(maskedKeys.length > 0 ? { maskedAttributes: maskedKeys } : {}),
    requestId: deps.requestId,
    timestamp: (deps.now?.() ?? new Date()).toISOString(),
  });
  metrics.addMetric(MetricNames.GuestsCreated, MetricUnit.Count, 1);
  const syncJobId = await enqueueSync(created.guest, created.etag, deps);
  return { guest: created.guest, etag: created.etag, syncJobId };
}

/** `PATCH /guests/{guestId}`: hash, merge onto the latest version under the guest's lease, audit `GUEST_UPDATED`, enqueue. */
export async function updateGuest(
  guestId: string,
  ifMatch: string,
  body: UpdateGuestBody,
  deps: GuestDependencies & { leases: WriteLeases },
): Promise<GuestWriteResult & { conflictsResolved: number }> {
  const { changes, maskedKeys } = changesFromBody(body, deps.salt);
  const result = await updateGuestWithMerge(deps.genesys, deps.settings, guestId, ifMatch, changes, {
    leases: deps.leases,
    ...(deps.deadline ? { deadline: deps.deadline } : {}),
  });
  writeAuditEntry({
    eventType: 'GUEST_UPDATED',
    guestId,
    actor: deps.actor,
    changedFields: changedFieldNames(changes),
    conflictsResolved: result.conflictsResolved,
    ...(maskedKeys.length > 0 ? { maskedAttributes: maskedKeys } : {}),
    requestId: deps.requestId,
    timestamp: (deps.now?.() ?? new Date()).toISOString(),
  });
  metrics.addMetric(MetricNames.GuestsUpdated, MetricUnit.Count, 1);
  if (result.conflictsResolved > 0) {
    metrics.addMetric(MetricNames.GuestConflictsResolved, MetricUnit.Count, result.conflictsResolved);
  }
  const syncJobId = await enqueueSync(result.guest, result.etag, deps);
  return { guest: result.guest, etag: result.etag, syncJobId, conflictsResolved: result.conflictsResolved };
}
