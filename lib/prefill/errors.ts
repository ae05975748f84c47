/** The prefill route's own failure: Genesys has the attributes, the queue does not have the job. */
import { AppError } from '#lib/errors';

/**
 * The attributes reached Genesys but the CRM sync job could not be queued, even after
 * retries: 502, saying exactly that, so the caller knows a retry is safe (the PUT is
 * idempotent and the job id is the same) and nothing was lost silently.
 */
export class SyncNotQueuedError extends AppError {
  readonly status = 502;
  readonly type = 'sync-not-queued';
  readonly title = 'Attributes applied, CRM sync not queued';

  constructor(sessionId: string, syncJobId: string, options?: { cause?: unknown }) {
    super(
      `The attributes were applied to session ${sessionId} in Genesys, but CRM sync job ${syncJobId} could not be queued. ` +
        'The job was logged for replay; sending the same request again re-applies the attributes and queues the same job.',
      options,
    );
    Object.assign(this.extensions, { sessionId, syncJobId, attributesApplied: true, syncQueued: false });
  }
}
