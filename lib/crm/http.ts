/**
 * The one HTTP call to the CRM (docs/api.md section 6): bearer token from the shared CRM
 * token provider, a timeout, one retry after a 401 with a re-read token (the secret may
 * have rotated). Callers (batch upsert, customer lookup) add their own retry policy.
 */
import { exchangeJson, ExchangeTimeoutError, type JsonAnswer } from '#lib/net';
import type { TokenProvider } from '#lib/auth';
import { CrmNetworkError } from './errors.ts';

/** A CRM answer. */
export type CrmResponse<T = unknown> = JsonAnswer<T>;

/** Options of one CRM request. */
export interface CrmRequestOptions {
  baseUrl: string;
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs: number;
  tokens: TokenProvider;
  fetch?: typeof fetch;
}

/** Sends one request to the CRM; never retries except once on 401. Bodies are parsed as JSON. */
export async function crmRequest<T = unknown>(options: CrmRequestOptions): Promise<CrmResponse<T>> {
  const { tokens } = options;
  const doFetch = options.fetch ?? fetch;
  let token = '';
  const send = async (): Promise<CrmResponse<T>> => {
    token = await tokens.getToken();
    try {
      return await exchangeJson<T>(doFetch, `${options.baseUrl}${options.path}`, { method: options.method, token, body: options.body, headers: options.headers }, options.timeoutMs);
    } catch (error) {
      const timedOut = error instanceof ExchangeTimeoutError || (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError'));
      const route = `${options.method} ${options.path.split('?')[0]}`;
      throw new CrmNetworkError(timedOut ? `CRM ${route} timed out` : `CRM ${route} got no answer`, timedOut, { cause: error });
    }
  };
  const first = await send();
  if (first.status !== 401) return first;
  // Naming the refused token lets concurrent 401s share one secret re-read (docs/api.md section 7).
  tokens.invalidate(token);
  return send();
}
