/** The prefill route's own failures: attributes too large for Genesys; the session prepared but its job not queued. */
import { AppError, PayloadTooLargeError } from '#lib/errors';

/**
 * The processed attributes serialise to more than Genesys accepts: 413, with the size and
 * the limit in the problem, before anything is stored or sent.
 */
export class AttributesTooLargeError extends PayloadTooLargeError {
  constructor(
    readonly byteSize: number,
    readonly maxBytes: number,
  ) {
    super(`The processed attributes serialise to ${byteSize} bytes; Genesys accepts at most ${maxBytes} bytes. Nothing was sent.`);
    Object.assign(this.extensions, { byteSize, maxBytes });
  }
}

/**
 * The attributes were stored as the prepared session (and PATCHed onto the live
 * conversation when there is one) but the CRM sync job could not be queued, even after
 * retries: 502, saying exactly that, so the caller knows a retry is safe (preparing and
 * PATCHing again change nothing, and the job id is the same) and nothing was lost silently.
 */
export class SyncNotQueuedError extends AppError {
  readonly status = 502;
  readonly type = 'sync-not-queued';
  readonly title = 'Attributes prepared, CRM sync not queued';

  constructor(sessionId: string, syncJobId: string, applied: 'pending' | 'conversation', options?: { cause?: unknown }) {
    super(
      `The attributes of session ${sessionId} were prepared${applied === 'conversation' ? ' and applied to its conversation in Genesys' : ''}, ` +
        `but CRM sync job ${syncJobId} could not be queued. ` +
        'The job was logged for replay; sending the same request again prepares the same attributes and queues the same job.',
      options,
    );
    Object.assign(this.extensions, { sessionId, syncJobId, attributesPrepared: true, attributesApplied: applied === 'conversation', syncQueued: false });
  }
}
