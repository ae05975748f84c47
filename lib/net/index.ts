/**
 * Deadlines for every outbound call: one HTTP exchange (request and the whole answer body)
 * and every AWS SDK call run under a hard deadline, so no call can outlive its Lambda.
 */
import { withDeadline } from './deadline.ts';

export { DeadlineExceededError, withDeadline } from './deadline.ts';
export { AWS_CONNECTION_TIMEOUT_MS, awsCall, awsRequestHandler } from './aws.ts';

/** The answer of one exchange, body read in full. */
export interface Exchange {
  response: Response;
  text: string;
}

/** Kept for callers that test for it: a deadline error of an HTTP exchange. */
export { DeadlineExceededError as ExchangeTimeoutError } from './deadline.ts';

/** Sends a request and reads its whole body within `timeoutMs` (see `withDeadline`). */
export function exchange(doFetch: typeof fetch, url: string, init: RequestInit, timeoutMs: number): Promise<Exchange> {
  return withDeadline(
    timeoutMs,
    async (signal) => {
      const response = await doFetch(url, { ...init, signal });
      const text = await response.text();
      return { response, text };
    },
    init.signal ?? undefined,
  );
}
