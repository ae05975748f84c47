/**
 * One HTTP exchange (request and the whole answer body) under a hard deadline. Every
 * outbound call of the suite goes through it, so no call can outlive its Lambda.
 */

/** The answer of one exchange, body read in full. */
export interface Exchange {
  response: Response;
  text: string;
}

/** Raised when the deadline passed before the answer was read; `name` is `TimeoutError`. */
export class ExchangeTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`No complete answer within ${timeoutMs} ms`);
    this.name = 'TimeoutError';
  }
}

/**
 * Sends a request and reads its body within `timeoutMs`. Hand-written rather than
 * `AbortSignal.timeout`: its timer is unreferenced and does not hold the signal, and
 * calls were seen to hang past their deadline under load; here our own timer aborts the
 * request and rejects the exchange, and is always cleared.
 */
export async function exchange(
  doFetch: typeof fetch,
  url: string,
  init: RequestInit,
  timeoutMs: number,
): Promise<Exchange> {
  const controller = new AbortController();
  const limit = Math.max(1, Math.ceil(timeoutMs));
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new ExchangeTimeoutError(limit);
      controller.abort(error);
      reject(error);
    }, limit);
  });
  const signal = init.signal ? AbortSignal.any([controller.signal, init.signal]) : controller.signal;
  try {
    return await Promise.race([
      (async () => {
        const response = await doFetch(url, { ...init, signal });
        const text = await response.text();
        return { response, text };
      })(),
      expired,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
