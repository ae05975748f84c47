/**
 * Guest updates without lost updates (docs/api.md section 2, `PATCH /guests/{guestId}`).
 *
 * Genesys offers no conditional write on external contacts: a `PUT` replaces the whole
 * contact, whatever happened since it was read. So the suite serialises its own writers
 * with a per-guest lease in the state table (`lease#guest#<id>`), and under the lease reads
 * the latest contact, lays the caller's changed fields over it and writes it back. When
 * the contact moved since the caller read it (its ETag no longer matches `If-Match`), the
 * fields the caller did not send keep the other writer's values (`conflictsResolved`).
 *
 * An attempt fails when this writer's lease ran out and another writer took it before the
 * `PUT` (checked with a conditional renewal just before writing): the attempt is started
 * again from a fresh read, at most `maxAttempts` (3) times, then 409. A lease another
 * request holds for longer than the wait allows is also a 409.
 *
 * What remains possible: a writer outside the suite (an agent in the Genesys UI, another
 * integration) that writes between this read and this `PUT` loses its change to this one,
 * and one that writes a whole contact it read earlier overwrites this change. No writer
 * going through the suite loses an update.
 *
 * The loop is hand-written: each attempt needs a new lease and the state read under it.
 */
import type { Deadline } from '#lib/genesys';
import type { WriteLeases } from '#lib/state';
import { applyChanges, changedFieldNames, type GuestChanges } from './changes.ts';
import { GuestUpdateConflictError } from './errors.ts';
import { fieldsOf, updatedGuestContact, type Guest, type GuestContactSettings } from './contact.ts';
import { readGuest, replaceGuest, type GuestGenesys } from './store.ts';

/** How an update went. */
export interface GuestUpdateResult {
  guest: Guest;
  etag: string;
  /** Times another writer's change was found and the caller's changes laid over it. */
  conflictsResolved: number;
  /** Read-merge-write attempts made. */
  attempts: number;
}

/** Options of `updateGuestWithMerge`. */
export interface GuestUpdateOptions {
  leases: WriteLeases;
  deadline?: Deadline;
  /** Attempts before giving up with 409 (default 3). */
  maxAttempts?: number;
  /** Longest wait for a lease another request holds (default: up to 5 s, within the deadline). */
  leaseWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Longest lease: a holder that dies blocks the guest's other writers at most this long. */
export const MAX_GUEST_LEASE_MS = 30_000;

/** Time kept back from the lease wait for the read and the write themselves. */
const WORK_RESERVE_MS = 3_000;

/** The opaque part of an entity tag: `W/"3"`, `"3"` and `3` are the same version. */
const opaque = (tag: string): string => tag.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');

/** Whether an `If-Match` header value names the version `etag` (or `*`). */
export function ifMatchSatisfiedBy(ifMatch: string, etag: string): boolean {
  const current = opaque(etag);
  return ifMatch.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === current);
}

/** Applies `changes` to a guest the caller last saw at version `ifMatch`. */
export async function updateGuestWithMerge(
  client: GuestGenesys,
  settings: GuestContactSettings,
  guestId: string,
  ifMatch: string,
  changes: GuestChanges,
  options: GuestUpdateOptions,
): Promise<GuestUpdateResult> {
  const maxAttempts = options.maxAttempts ?? 3;
  const remaining = (): number => options.deadline?.remainingMs() ?? MAX_GUEST_LEASE_MS;
  const leaseTtl = (): number => Math.max(1, Math.min(MAX_GUEST_LEASE_MS, remaining()));
  const leaseWait = (): number => options.leaseWaitMs ?? Math.max(0, Math.min(5_000, remaining() - WORK_RESERVE_MS));
  const fields = changedFieldNames(changes);

  let conflictsResolved = 0;
  let lastSeen: string | undefined;
  for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
    const lease = await options.leases.acquire(`guest#${guestId}`, {
      ttlMs: leaseTtl(),
      waitMs: leaseWait(),
      ...(options.sleep ? { sleep: options.sleep } : {}),
    });
    if (!lease) {
      throw new GuestUpdateConflictError(guestId, 'busy', attempt, fields);
    }
    try {
      const latest = await readGuest(client, settings, guestId, options.deadline);
      const expected = lastSeen ?? ifMatch;
      if (!ifMatchSatisfiedBy(expected, latest.etag)) conflictsResolved += 1;
      lastSeen = latest.etag;
      const body = updatedGuestContact(settings, latest.contact, applyChanges(fieldsOf(latest.guest), changes));
      if (!(await lease.renew(leaseTtl()))) continue;
      const written = await replaceGuest(client, settings, guestId, body, options.deadline);
      return { guest: written.guest, etag: written.etag, conflictsResolved, attempts: attempt };
    } finally {
      await lease.release();
    }
  }
  throw new GuestUpdateConflictError(guestId, 'taken-over', maxAttempts, fields);
}
