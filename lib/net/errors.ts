/** The errors of outbound calls: a deadline that passed before the answer. */

/** Raised when the deadline passed first; `name` is `TimeoutError`, as fetch and the AWS SDK use. */
export class DeadlineExceededError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`No complete answer within ${timeoutMs} ms`);
    this.name = 'TimeoutError';
  }
}
