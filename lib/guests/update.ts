/**
 * Optimistic concurrency for guest updates (contract section 2, `PATCH /guests/{guestId}`):
 * the update is written only at a version Genesys confirms with `If-Match`; when another
 * writer got there first (412), the latest guest is re-read, the caller's changes are laid
 * over it again and the write is retried, at most three attempts, then 409.
 *
 * The loop is hand-written: a cockatiel retry policy could repeat the call, but each
 * attempt needs the state read after the previous one failed (a new body and a new ETag),
 * which is this loop's whole content.
 */
import { ConflictError, DependencyError } from '#lib/errors';
import { GenesysError, type Deadline, type GenesysClient, type Guest } from '#lib/genesys';
import { applyChanges, changedFieldNames, type GuestChanges } from './changes.ts';

/** The two Genesys operations an update needs (the shared client, or a test double). */
export type GuestStore = Pick<GenesysClient, 'getGuest' | 'updateGuest'>;

/** How an update went. */
export interface GuestUpdateResult {
  guest: Guest;
  etag: string | undefined;
  /** Times another writer's change was found and the caller's changes laid over it. */
  conflictsResolved: number;
  /** PATCH requests sent. */
  attempts: number;
}

/** Options of `updateGuestWithMerge`. */
export interface GuestUpdateOptions {
  deadline?: Deadline;
  /** PATCH attempts before giving up with 409 (default 3). */
  maxAttempts?: number;
}

/** The opaque part of an entity tag: `W/"3"`, `"3"` and `3` are the same version. */
const opaque = (tag: string): string => tag.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');

/** Whether an `If-Match` header value names the version `etag` (or `*`). */
export function ifMatchSatisfiedBy(ifMatch: string, etag: string): boolean {
  const current = opaque(etag);
  return ifMatch.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === current);
}

const isPreconditionFailed = (error: unknown): boolean => error instanceof GenesysError && error.upstreamStatus === 412;

/**
 * Applies `changes` to a guest the caller last saw at version `ifMatch`. The guest is read
 * first: its groups are the base the caller's leaves are laid over (so a partial group
 * never wipes its siblings), and a version newer than `ifMatch` is a conflict resolved
 * the same way as a 412 (the caller's version would only earn a 412). Every PATCH carries
 * `If-Match`, so a write between our read and our PATCH is never overwritten.
 */
export async function updateGuestWithMerge(
  store: GuestStore,
  guestId: string,
  ifMatch: string,
  changes: GuestChanges,
  options: GuestUpdateOptions = {},
): Promise<GuestUpdateResult> {
  const maxAttempts = options.maxAttempts ?? 3;
  const call = options.deadline ? { deadline: options.deadline } : {};
  const read = async (): Promise<{ guest: Guest; etag: string }> => {
    const { body, etag } = await store.getGuest(guestId, call);
    if (!etag) throw new DependencyError('Genesys returned the guest without an ETag, so it cannot be updated safely.');
    return { guest: body, etag };
  };

  let conflictsResolved = 0;
  let latest = await read();
  let precondition = ifMatch;
  if (!ifMatchSatisfiedBy(ifMatch, latest.etag)) {
    conflictsResolved += 1;
    precondition = latest.etag;
  }

  for (let attempt = 1; ; attempt += 1) {
    try {
      const written = await store.updateGuest(guestId, applyChanges(latest.guest, changes), precondition, call);
      return { guest: written.body, etag: written.etag, conflictsResolved, attempts: attempt };
    } catch (error) {
      if (!isPreconditionFailed(error)) throw error;
      if (attempt >= maxAttempts) {
        const fields = changedFieldNames(changes);
        const conflict = new ConflictError(
          `Guest ${guestId} was changed by another writer during each of ${attempt} attempts; ` +
            `the update of ${fields.join(', ')} was not applied. Read the guest and try again.`,
          { cause: error },
        );
        Object.assign(conflict.extensions, { guestId, attempts: attempt, conflictingFields: fields });
        throw conflict;
      }
      conflictsResolved += 1;
      latest = await read();
      precondition = latest.etag;
    }
  }
}
