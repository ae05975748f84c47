/**
 * What the guest tests share: a sandbox Genesys (version 2) seeded with the guest set-up
 * (the request bodies of lib/guests/setup.ts under fixed ids), and the suite's own Genesys
 * client pointed at it.
 */
import { GenesysClient } from '#lib/genesys';
import type { GuestContactSettings } from '#lib/guests/contact.ts';
import { guestSetupSeed } from '#lib/guests/setup.ts';
import { startGenesysSandboxV2, type GenesysSandboxV2, type GenesysSandboxV2Options } from '#local/sandbox/genesys/index.ts';

/** The OAuth client the sandbox accepts. */
export const CLIENT = { clientId: 'unit-guests', clientSecret: 'unit-guests-secret' };

/** The fixed ids the guest set-up has in the seeded sandbox. */
export const SETTINGS: GuestContactSettings = {
  externalSourceId: '0b5e7f3a-5c1d-4e2f-9a3b-6c7d8e9f0a01',
  contactSchemaId: '0b5e7f3a-5c1d-4e2f-9a3b-6c7d8e9f0a02',
};

/** Starts the sandbox with the guest set-up already in the organisation. */
export function startGuestSandbox(options: Partial<GenesysSandboxV2Options> = {}): Promise<GenesysSandboxV2> {
  return startGenesysSandboxV2({
    clients: [CLIENT],
    seed: guestSetupSeed(SETTINGS),
    ...options,
  });
}

/** A token source that asks the sandbox for a client-credentials token when it has none. */
function tokens(url: string): { getToken(): Promise<string>; invalidate(): void } {
  let token: Promise<string> | undefined;
  return {
    getToken: () =>
      (token ??= fetch(`${url}/oauth/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${CLIENT.clientId}:${CLIENT.clientSecret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials',
      }).then(async (response) => ((await response.json()) as { access_token: string }).access_token)),
    invalidate: () => {
      token = undefined;
    },
  };
}

/** The suite's Genesys client against the sandbox, with no waits between retries. */
export function clientFor(sandbox: GenesysSandboxV2, options: { fetch?: typeof fetch; timeoutMs?: number } = {}): GenesysClient {
  return new GenesysClient({
    apiBaseUrl: sandbox.url,
    tokens: tokens(sandbox.url),
    sleep: async () => undefined,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
}

/** A control-route call to the sandbox; resolves with the parsed answer. */
export async function control<T = unknown>(sandbox: GenesysSandboxV2, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${sandbox.url}${path}`, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  if (response.status >= 400) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Requests the sandbox saw for one SDK operation. */
export const requestsFor = (sandbox: GenesysSandboxV2, operation: string): number =>
  sandbox.state().requests.filter((entry) => entry.operation === operation).length;
