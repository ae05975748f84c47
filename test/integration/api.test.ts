/**
 * The local stack as a caller sees it: the open health route, and the machine JWT
 * authorizer refusing requests exactly as API Gateway would, before any function runs.
 */
import { describe, expect, inject, it } from 'vitest';
import { LOCAL_DEFAULTS } from '#local/stack.ts';
import { mintLocalToken } from '#local/tokens.ts';

const stack = inject('stack');
const GUEST_ID = '3f2b6c1e-9a7d-4e1b-8c2a-1d2e3f4a5b6c';

const genesysRequests = async (operation: string): Promise<number> => {
  const state = (await (await fetch(`${stack.genesysUrl}/__sandbox/state`)).json()) as { requests: Array<{ operation: string }> };
  return state.requests.filter((r) => r.operation === operation).length;
};

describe('GET /health', () => {
  it('answers 200 with the status and version, and echoes the request id', async () => {
    // Act
    const response = await fetch(`${stack.apiUrl}/health`, { headers: { 'x-request-id': 'health-check-1' } });

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('health-check-1');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await response.json()).toEqual({ status: 'ok', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  });

  it('needs no token', async () => {
    // Act
    const response = await fetch(`${stack.apiUrl}/health`, { headers: { authorization: 'Bearer not-a-jwt' } });

    // Assess
    expect(response.status).toBe(200);
  });
});

describe('the machine JWT authorizer on GET /guests/{guestId}', () => {
  it.each([
    ['no token', async () => undefined, 401],
    ['a malformed token', async () => 'not-a-jwt', 401],
    ['an expired token', async () => mintLocalToken({ sub: 'client', scope: 'guest-sync/read', issuedAt: Math.floor(Date.now() / 1000) - 7200, expiresInSeconds: 3600 }), 401],
    ['a token from another issuer', async () => mintLocalToken({ sub: 'client', scope: 'guest-sync/read', issuer: 'https://elsewhere.invalid/' }), 401],
    ['a token for another audience', async () => mintLocalToken({ sub: 'client', scope: 'guest-sync/read', audience: 'widget' }), 401],
    ['a token without the read scope', async () => mintLocalToken({ sub: 'client', scope: 'guest-sync/write' }), 403],
    ['a token with no scope at all', async () => mintLocalToken({ sub: 'client' }), 403],
  ])('refuses %s before the function runs', async (_case, token, status) => {
    // Prepare
    const before = await genesysRequests('getExternalcontactsContact');
    const bearer = await token();

    // Act
    const response = await fetch(`${stack.apiUrl}/guests/${GUEST_ID}`, {
      headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` },
    });

    // Assess
    expect(response.status).toBe(status);
    expect(await genesysRequests('getExternalcontactsContact')).toBe(before);
  });

  it('lets a token with the read scope through to Genesys', async () => {
    // Prepare
    const token = await mintLocalToken({ sub: 'client', scope: 'guest-sync/read' });
    const before = await genesysRequests('getExternalcontactsContact');

    // Act
    const response = await fetch(`${stack.apiUrl}/guests/${GUEST_ID}`, { headers: { authorization: `Bearer ${token}` } });

    // Assess: the sandbox has no such guest, so Genesys answered 404 and so do we. (A token
    // another test revoked costs one 401 and a retry, so count at least one request.)
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(await response.json()).toMatchObject({ status: 404, type: expect.stringContaining('not-found') });
    expect(await genesysRequests('getExternalcontactsContact')).toBeGreaterThan(before);
  });
});

describe('GET /guests/{guestId} end to end', () => {
  it('returns a guest that exists in Genesys (an external contact of the guest schema) with a strong ETag', async () => {
    // Prepare: create the guest's external contact directly in the Genesys sandbox with the sample credentials.
    const basic = Buffer.from('local-genesys-client:local-genesys-client-secret').toString('base64');
    const tokenResponse = await fetch(`${stack.genesysUrl}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    const { access_token: genesysToken } = (await tokenResponse.json()) as { access_token: string };
    const created = await fetch(`${stack.genesysUrl}/api/v2/externalcontacts/contacts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${genesysToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        schema: { id: LOCAL_DEFAULTS['GUEST_CONTACT_SCHEMA_ID'], version: 1 },
        customFields: { marketingConsent_checkbox: false, dataProcessingConsent_checkbox: true, attributes1_longtext: '{"loyaltyTier":"gold"}' },
      }),
    });
    const guest = (await created.json()) as { id: string };
    const token = await mintLocalToken({ sub: 'client', scope: 'guest-sync/read' });

    // Act
    const response = await fetch(`${stack.apiUrl}/guests/${guest.id}`, { headers: { authorization: `Bearer ${token}` } });

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(await response.json()).toMatchObject({ id: guest.id, consent: { marketing: false, dataProcessing: true }, attributes: { loyaltyTier: 'gold' } });
  });
});
