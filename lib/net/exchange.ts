/**
 * One HTTP exchange under a hard deadline: the request and the whole answer body, and the
 * bearer-token JSON request the CRM clients send through it.
 */
import { withDeadline } from './deadline.ts';

/** The answer of one exchange, body read in full. */
export interface Exchange {
  response: Response;
  text: string;
}

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

/** A JSON API's answer: the body parsed, or undefined when it is empty or not JSON. */
export interface JsonAnswer<T = unknown> {
  status: number;
  headers: Headers;
  body: T | undefined;
}

/** One bearer-token JSON request to an API. */
export interface BearerJsonRequest {
  method: string;
  token: string;
  /** Sent as JSON when present. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Aborts the exchange early (an outer deadline). */
  signal?: AbortSignal;
}

/** The JSON request both CRM clients send (bearer token, JSON in and out) as one `exchange`. */
export async function exchangeJson<T = unknown>(doFetch: typeof fetch, url: string, request: BearerJsonRequest, timeoutMs: number): Promise<JsonAnswer<T>> {
  const hasBody = request.body !== undefined;
  const { response, text } = await exchange(
    doFetch,
    url,
    {
      method: request.method,
      ...(request.signal ? { signal: request.signal } : {}),
      headers: {
        accept: 'application/json',
        authorization: `Bearer ${request.token}`,
        ...(hasBody ? { 'content-type': 'application/json' } : {}),
        ...request.headers,
      },
      ...(hasBody ? { body: JSON.stringify(request.body) } : {}),
    },
    timeoutMs,
  );
  let body: T | undefined;
  try {
    body = text === '' ? undefined : (JSON.parse(text) as T);
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, body };
}
