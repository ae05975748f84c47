/**
 * A hard deadline around any asynchronous call: our own timer aborts the call's signal
 * and rejects, whatever the call does. Hand-written rather than `AbortSignal.timeout`,
 * whose timer is unreferenced and was seen to let calls hang past their deadline under load.
 */
import { DeadlineExceededError } from './errors.ts';

/** How a deadline ends besides its own timer: an outer signal, and the error the caller rejects with. */
export interface DeadlineOptions {
  /** Aborts the call early (an outer deadline or a caller that gave up). */
  signal?: AbortSignal;
  /**
   * The error to reject with when the deadline passes (default: the `DeadlineExceededError`
   * the signal is aborted with), so a caller tells its own deadline from a timeout inside the call.
   */
  expired?: () => unknown;
}

/**
 * Runs `call` with a signal that aborts after `timeoutMs` and rejects with
 * `DeadlineExceededError` (or `expired()`) at that moment even if the call ignores its signal.
 */
export function withDeadline<T>(timeoutMs: number, call: (signal: AbortSignal) => Promise<T>, options?: AbortSignal | DeadlineOptions): Promise<T> {
  const { signal: outer, expired } = options instanceof AbortSignal ? { signal: options, expired: undefined } : (options ?? {});
  const controller = new AbortController();
  const limit = Math.max(1, Math.ceil(timeoutMs));
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new DeadlineExceededError(limit);
      controller.abort(error);
      reject(expired ? expired() : error);
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
