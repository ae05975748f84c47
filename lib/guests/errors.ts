/** The guest routes' own failures, each answered as its problem by the HTTP stack. */
import { ConflictError, DependencyError } from '#lib/errors';
import { EnqueueError } from '#lib/jobs';

/**
 * The guest was written but its CRM sync job could not be queued: 502 naming the guest and
 * the job, so the caller knows the write happened and nothing was lost silently.
 */
export class GuestSyncNotQueuedError extends DependencyError {
  constructor(guestId: string, syncJobId: string, cause: unknown) {
    super(cause instanceof EnqueueError ? cause.message : 'The CRM sync job could not be queued.', 502, { cause });
    if (cause instanceof EnqueueError) Object.assign(this.extensions, cause.extensions);
    Object.assign(this.extensions, { guestId, syncJobId, guestWritten: true });
  }
}

/**
 * An update that was not applied because other writers held the guest: `busy` when its
 * write lease could not be had, `taken-over` when another writer won each attempt. 409,
 * naming the fields that were not applied.
 */
export class GuestUpdateConflictError extends ConflictError {
  constructor(guestId: string, kind: 'busy' | 'taken-over', attempts: number, conflictingFields: string[]) {
    super(
      kind === 'busy'
        ? `Guest ${guestId} is being updated by another request; the update of ${conflictingFields.join(', ')} was not applied. Try again.`
        : `Guest ${guestId} was taken over by another writer during each of ${attempts} attempts; ` +
            `the update of ${conflictingFields.join(', ')} was not applied. Read the guest and try again.`,
    );
    Object.assign(this.extensions, { guestId, attempts, conflictingFields });
  }
}
