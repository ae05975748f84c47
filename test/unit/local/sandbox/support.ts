/** Small factories the sandbox tests share. */

/** A session id Genesys would accept. */
export const SESSION_ID = '3f6c1d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f';

/** A mutable test clock to inject into a sandbox. */
export function manualClock(start = Date.parse('2025-03-01T12:00:00.000Z')): { now: () => number; advance(ms: number): void } {
  let current = start;
  return {
    now: () => current,
    advance: (ms) => {
      current += ms;
    },
  };
}

/** A Basic authorization header value. */
export function basic(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
}

/** Requests a client-credentials token. */
export function requestToken(url: string, clientId: string, clientSecret: string, form = 'grant_type=client_credentials'): Promise<Response> {
  return fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: { authorization: basic(clientId, clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
  });
}

/** Issues a token and returns it. */
export async function tokenFor(url: string, clientId: string, clientSecret: string): Promise<string> {
  const response = await requestToken(url, clientId, clientSecret);
  if (response.status !== 200) throw new Error(`token request answered ${response.status}`);
  const body = (await response.json()) as { access_token: string };
  return body.access_token;
}

/** A JSON request with a bearer token. */
export function call(
  url: string,
  token: string | undefined,
  method: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  const init: RequestInit = {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
  };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  return fetch(url, init);
}

/** A control-route call (no auth); returns the parsed JSON body, if any. */
export async function control<T = unknown>(url: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await call(`${url}${path}`, undefined, method, body);
  if (response.status >= 400) throw new Error(`${method} ${path} answered ${response.status}: ${await response.text()}`);
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}
