/**
 * A hard deadline around any asynchronous call: our own timer aborts the call's signal
 * and rejects, whatever the call does. Hand-written rather than `AbortSignal.timeout`,
 * whose timer is unreferenced and was seen to let calls hang past their deadline under load.
 */

/** Raised when the deadline passed first; `name` is `TimeoutError`, as fetch and the AWS SDK use. */
export class DeadlineExceededError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`No complete answer within ${timeoutMs} ms`);
    this.name = 'TimeoutError';
  }
}

/**
 * Runs `call` with a signal that aborts after `timeoutMs` and rejects with
 * `DeadlineExceededError` at that moment even if the call ignores its signal.
 */
export function withDeadline<T>(timeoutMs: number, call: (signal: AbortSignal) => Promise<T>, outer?: AbortSignal): Promise<T> {
  const controller = new AbortController();
  const limit = Math.max(1, Math.ceil(timeoutMs));
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new DeadlineExceededError(limit);
      controller.abort(error);
      reject(error);
    }, limit);
    const settle = <V>(finish: (value: V) => void) => (value: V): void => {
      clearTimeout(timer);
      finish(value);
    };
    try {
      const signal = outer ? AbortSignal.any([controller.signal, outer]) : controller.signal;
      Promise.resolve(call(signal)).then(settle(resolve), settle(reject));
    } catch (error) {
      settle(reject)(error);
    }
  });
}
