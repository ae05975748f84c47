/** The state table's errors: a condition that did not hold, and a session store that could not answer. */
import { DependencyError } from '#lib/errors';

/** A conditional write found the item in another state than the condition asks. */
export class ConditionFailedError extends Error {
  constructor(pk: string, options?: { cause?: unknown }) {
    super(`The state item "${pk.split('#')[0]}#…" is not in the expected state`, options);
    this.name = 'ConditionFailedError';
  }
}

/**
 * The state table did not store or read a prepared session (unavailable, throttled, or no
 * answer in time): an upstream failure the caller may retry, never a 500. 504 when the
 * call ran out of time, else 503 with `Retry-After`.
 */
export class SessionStoreError extends DependencyError {
  constructor(sessionId: string, cause: unknown) {
    const timedOut = (cause as { name?: unknown } | null)?.name === 'TimeoutError';
    super(
      timedOut
        ? `The prepared session ${sessionId} could not be stored in time. Retry the request.`
        : `The prepared session ${sessionId} could not be stored (the state table is unavailable). Retry the request.`,
      timedOut ? 504 : 503,
      { cause, ...(timedOut ? {} : { retryAfterSeconds: 1 }), extensions: { sessionId } },
    );
  }
}
