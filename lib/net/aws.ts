/**
 * Deadlines for AWS SDK calls. The SDK's `requestTimeout` alone only logs a warning in the
 * installed `@smithy/node-http-handler`; `throwOnRequestTimeout` makes it an error, and
 * `awsCall` bounds the whole call (its retries included) by the time the caller has left.
 */
import { withDeadline } from './deadline.ts';

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
 * Runs one SDK call under a hard deadline of `budgetMs` for the whole call, retries
 * included: `send` receives the abort signal to pass to `client.send(command, options)`,
 * the request is aborted at the deadline, and the caller gets a `TimeoutError` in time to
 * do something else (keep the job in the outbox, answer 504).
 */
export function awsCall<T>(budgetMs: number, send: (options: { abortSignal: AbortSignal }) => Promise<T>): Promise<T> {
  return withDeadline(budgetMs, (abortSignal) => send({ abortSignal }));
}
