/**
 * Deadlines for AWS SDK calls. The SDK's `requestTimeout` alone only logs a warning in the
 * installed `@smithy/node-http-handler`; `throwOnRequestTimeout` makes it an error, and
 * `awsCall` bounds the whole call (its retries included) by the time the caller has left.
 */
import { DeadlineExceededError } from './errors.ts';

/** Connecting to an AWS endpoint on loopback or in-region never takes longer than this. */
export const AWS_CONNECTION_TIMEOUT_MS = 1_000;

/** The `requestHandler` options of every AWS client of the suite: a real per-attempt timeout. */
export function awsRequestHandler(requestTimeoutMs: number): {
  connectionTimeout: number;
  requestTimeout: number;
  throwOnRequestTimeout: true;
} {
  return { connectionTimeout: AWS_CONNECTION_TIMEOUT_MS, requestTimeout: requestTimeoutMs, throwOnRequestTimeout: true };
}

/**
 * The abort signal `awsCall` hands to `client.send(command, options)`: the SDK's own
 * signal interface (`aborted`, `reason`, `onabort`), which its HTTP handler serves by
 * setting `onabort` on each attempt. A platform `AbortSignal` would make it add and remove
 * an event listener per attempt instead, which costs more than the rest of a loopback
 * call's overhead together; this one costs nothing until the deadline fires.
 */
export interface AwsAbortSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  /** Set by the SDK's HTTP handler for the attempt in flight; called once at the deadline. */
  onabort: ((this: AwsAbortSignal, event: { type: 'abort' }) => unknown) | null;
}

/**
 * Runs one SDK call under a hard deadline of `budgetMs` for the whole call, retries
 * included: `send` receives the abort signal to pass to `client.send(command, options)`,
 * the request is aborted at the deadline, and the caller gets a `TimeoutError` in time to
 * do something else (keep the job in the outbox, answer 504). One timer per call.
 */
export function awsCall<T>(budgetMs: number, send: (options: { abortSignal: AwsAbortSignal }) => Promise<T>): Promise<T> {
  const limit = Math.max(1, Math.ceil(budgetMs));
  const signal: { aborted: boolean; reason: unknown; onabort: AwsAbortSignal['onabort'] } = { aborted: false, reason: undefined, onabort: null };
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new DeadlineExceededError(limit);
      signal.aborted = true;
      signal.reason = error;
      reject(error);
      // The attempt in flight destroys its request; whatever it answers later is ignored.
      signal.onabort?.call(signal, { type: 'abort' });
    }, limit);
    let pending: Promise<T>;
    try {
      // A stubbed client (aws-sdk-client-mock) may answer with a plain value.
      pending = Promise.resolve(send({ abortSignal: signal }));
    } catch (error) {
      clearTimeout(timer);
      reject(error);
      return;
    }
    pending.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
