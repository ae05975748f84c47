import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CrmCredentialsError } from '#lib/crm/providers/errors.ts';
import { ClientCredentialsTokenProvider, TOKEN_REFRESH_MARGIN_MS, tokenEndpoint } from '#lib/crm/providers/oauth.ts';
import { startScriptedServer } from '#test/support/scripted-server.ts';
import { SECRET_ID, secretAnswers, secretCache, secretReads } from './support.ts';

/** A token endpoint that counts its requests and answers tokens that live `expiresIn` seconds. */
async function tokenServer(expiresIn: number): Promise<{ url: string; bodies: URLSearchParams[]; close(): Promise<void> }> {
  const server = await startScriptedServer([], {
    // A short pause so concurrent callers overlap with the request in flight.
    after: (_request, n) => ({ status: 200, delayMs: 20, body: { token_type: 'Bearer', expires_in: expiresIn, access_token: `token-${n}` } }),
  });
  return {
    url: server.url,
    get bodies() {
      return server.requests.map((request) => new URLSearchParams(request.body));
    },
    close: server.close,
  };
}

let endpoint: Awaited<ReturnType<typeof tokenServer>>;
let now = 0;
beforeEach(async () => {
  now = Date.parse('2025-03-01T12:00:00.000Z');
  endpoint = await tokenServer(3_600);
  secretAnswers({ tenantId: 'tenant-1', clientId: 'client-1', clientSecret: 'secret-1' });
});
afterEach(async () => {
  await endpoint.close();
});

const provider = (): ClientCredentialsTokenProvider =>
  new ClientCredentialsTokenProvider({
    secrets: secretCache(),
    secretId: SECRET_ID,
    flavour: 'dynamics',
    resourceUrl: 'https://org.crm.dynamics.com/',
    tokenUrl: `${endpoint.url}/{tenantId}/oauth2/v2.0/token`,
    now: () => now,
  });

describe('ClientCredentialsTokenProvider', () => {
  it('shares one token request among concurrent callers and asks for the {DYNAMICS_URL}/.default scope', async () => {
    // Act
    const shared = provider();
    const concurrent = await Promise.all(Array.from({ length: 20 }, () => shared.getToken()));

    // Assess
    expect(new Set(concurrent)).toEqual(new Set(['token-1']));
    expect(endpoint.bodies).toHaveLength(1);
    const last = endpoint.bodies.at(-1);
    expect(last?.get('grant_type')).toBe('client_credentials');
    expect(last?.get('scope')).toBe('https://org.crm.dynamics.com/.default');
    expect(last?.get('client_id')).toBe('client-1');
  });

  it('reuses a token until 60 s before it expires, then fetches a new one', async () => {
    // Prepare
    const tokens = provider();
    const first = await tokens.getToken();

    // Act
    now += 3_600_000 - TOKEN_REFRESH_MARGIN_MS - 1;
    const stillCached = await tokens.getToken();
    now += 2;
    const renewed = await tokens.getToken();

    // Assess
    expect(stillCached).toBe(first);
    expect(renewed).not.toBe(first);
    expect(endpoint.bodies).toHaveLength(2);
  });

  it('gets a new token and re-reads the secret after invalidate() (the API refused a fresh token)', async () => {
    // Prepare
    const tokens = provider();
    await tokens.getToken();

    // Act
    tokens.invalidate();
    await tokens.getToken();

    // Assess
    expect(endpoint.bodies).toHaveLength(2);
    expect(secretReads()).toBe(2);
  });

  it('fails with a credentials error when the endpoint refuses the secret twice', async () => {
    // Prepare
    await endpoint.close();
    const refusing = await startScriptedServer([], {
      after: { status: 401, body: { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' } },
    });
    const url = refusing.url;
    const tokens = new ClientCredentialsTokenProvider({ secrets: secretCache(), secretId: SECRET_ID, flavour: 'dynamics', resourceUrl: 'https://x', tokenUrl: url });

    // Act
    const error = await tokens.getToken().catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(CrmCredentialsError);
    expect((error as Error).message).toContain('invalid_client');
    expect((error as Error).message).not.toContain('secret-1');
    expect(secretReads()).toBe(2);
    await refusing.close();
    endpoint = await tokenServer(1);
  });

  it('builds each provider token URL, and CRM_TOKEN_URL replaces it', () => {
    expect(tokenEndpoint({ flavour: 'salesforce' }, { loginUrl: 'https://acme.my.salesforce.com/' })).toBe('https://acme.my.salesforce.com/services/oauth2/token');
    expect(tokenEndpoint({ flavour: 'dynamics' }, { tenantId: 'tenant-1' })).toBe('https://login.microsoftonline.com/tenant-1/oauth2/v2.0/token');
    expect(tokenEndpoint({ flavour: 'dynamics', tokenUrl: 'http://127.0.0.1:9/{tenantId}/t' }, { tenantId: 'tenant-1' })).toBe('http://127.0.0.1:9/tenant-1/t');
  });
});
