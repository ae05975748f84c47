/** The jobs' errors: jobs that are neither on the queue nor in the outbox. */
import { DependencyError } from '#lib/errors';

/** Raised when some jobs could not be enqueued after retries; names them, never their content. */
export class EnqueueError extends DependencyError {
  constructor(
    readonly failedJobIds: string[],
    options?: { cause?: unknown },
  ) {
    super(`${failedJobIds.length} CRM sync job(s) could not be queued.`, 502, options);
  }
}
