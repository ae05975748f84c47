/** The CRM's errors: a call that got no answer. */

/** A CRM call that got no answer (timeout, connection refused, reset). */
export class CrmNetworkError extends Error {
  constructor(
    message: string,
    readonly timedOut: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CrmNetworkError';
  }
}
