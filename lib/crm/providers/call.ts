/**
 * One authenticated provider request: a bearer token from the provider's token source, one
 * HTTP exchange under the caller's hard deadline (`exchange` from `#lib/net`, token time
 * included), and one retry with a fresh token (and a re-read secret) when the API refuses
 * the token. Every provider adapter sends through here, so the deadline and the token
 * handling have one home.
 */
import { exchangeJson, parseRetryAfter, withDeadline, type JsonAnswer } from '#lib/net';
import { SecretError } from '#lib/auth';
import type { CallFailure } from '../adapter.ts';
import { networkFailure } from '../adapter.ts';
import { CrmCredentialsError, CrmTokenEndpointError } from './errors.ts';
import type { CrmTokenSource } from './oauth.ts';

/** A provider answer, body parsed as JSON when it is JSON. */
export type ProviderAnswer = JsonAnswer;

/** One request to send. */
export interface ProviderRequest {
  /** Absolute URL, or a path joined to the base URL. */
  url: (token: string) => string;
  method: 'GET' | 'POST' | 'PATCH';
  body?: unknown;
  headers?: Record<string, string>;
}

/** How a provider says its API refused the token (401, or a provider code). */
export type TokenRefusal = (answer: ProviderAnswer) => boolean;

/** Sends `request`; a refused token is renewed once. Failures come back as a `CallFailure`. */
export async function sendAuthenticated(
  tokens: CrmTokenSource,
  request: ProviderRequest,
  options: { timeoutMs: number; fetch?: typeof fetch; what: string; refusedToken?: TokenRefusal },
): Promise<ProviderAnswer | CallFailure> {
  const refused = options.refusedToken ?? ((answer: ProviderAnswer) => answer.status === 401);
  try {
    return await withDeadline(options.timeoutMs, async (signal) => {
      const send = async (): Promise<ProviderAnswer> => {
        const token = await tokens.getToken();
        return exchangeJson(options.fetch ?? fetch, request.url(token), { method: request.method, token, body: request.body, headers: request.headers, signal }, options.timeoutMs);
      };
      const first = await send();
      if (!refused(first)) return first;
      tokens.invalidate();
      const second = await send();
      if (refused(second)) tokens.invalidate();
      return second;
    });
  } catch (error) {
    if (error instanceof CrmCredentialsError) return { kind: 'credentials', reason: error.message, ...(error.status ? { status: error.status } : {}) };
    if (error instanceof CrmTokenEndpointError) {
      return { kind: 'transient', reason: error.message, ...(error.status ? { status: error.status } : {}), ...(error.timedOut ? { timedOut: true } : {}) };
    }
    if (error instanceof SecretError) {
      // A malformed or missing secret is a deployment mistake; an unreadable one may pass.
      return error.reason === 'read_failed' ? { kind: 'transient', reason: error.message } : { kind: 'credentials', reason: error.message };
    }
    return networkFailure(error, options.what);
  }
}

/** Type guard: the send came back as a failure. */
export function isFailure(value: ProviderAnswer | CallFailure): value is CallFailure {
  return 'kind' in value;
}

/** A header as a finite number, or undefined. */
export function numberHeader(headers: Headers, name: string): number | undefined {
  const raw = headers.get(name);
  if (raw === null || raw.trim() === '') return undefined;
  const value = Number(raw);
  return Number.isFinite(value) ? value : undefined;
}

/** `Retry-After` of an answer in ms (see `parseRetryAfter`). */
export function retryAfterMs(headers: Headers, now: number): number | undefined {
  return parseRetryAfter(headers.get('retry-after'), now);
}

/** The generic classification of a status no provider rule claimed. */
export function classifyStatus(status: number, reason: string, headers: Headers, now: number): CallFailure {
  if (status === 429) return { kind: 'rate_limited', status, reason, retryAfterMs: retryAfterMs(headers, now) ?? 1_000 };
  if (status === 401) return { kind: 'credentials', status, reason };
  if (status === 403) return { kind: 'permission', status, reason };
  if (status >= 500 || status === 408 || status === 409 || status === 425) {
    const wait = retryAfterMs(headers, now);
    return { kind: 'transient', status, reason, ...(wait === undefined ? {} : { retryAfterMs: wait }) };
  }
  return { kind: 'rejected', status, reason };
}

/** Next midnight (epoch ms) in an IANA time zone, for quotas that reset at local midnight. */
export function nextMidnight(now: number, timeZone = 'UTC'): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(now));
  const get = (type: string): number => Number(parts.find((part) => part.type === type)?.value);
  const localAsUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  const offset = localAsUtc - Math.floor(now / 1000) * 1000;
  const nextLocalMidnight = Date.UTC(get('year'), get('month') - 1, get('day') + 1);
  return nextLocalMidnight - offset;
}
