import { afterEach, describe, expect, it } from 'vitest';
import { PreconditionRequiredError } from '#lib/errors';
import { GenesysError } from '#lib/genesys';
import { caught, startScriptedServer, testClient } from './support.ts';
import type { ScriptedServer } from './support.ts';

const SESSION_ID = '3f2a6c1e-8b7d-4e3f-9a1b-2c3d4e5f6a7b';
const GUEST = {
  id: 'guest-1',
  consent: { marketing: false, dataProcessing: true },
  createdDate: '2026-03-01T10:00:00.000Z',
  modifiedDate: '2026-03-01T10:05:00.000Z',
};

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('successful answers', () => {
  it('return the created guest with its ETag and correlation id', async () => {
    // Prepare
    server = await startScriptedServer([
      { status: 201, headers: { ETag: '"v1"', 'ININ-Correlation-Id': 'corr-201' }, body: GUEST },
    ]);
    const { client } = testClient(server.url);

    // Act
    const response = await client.createGuest({ consent: { marketing: false, dataProcessing: true } });

    // Assess
    expect(response).toEqual({ status: 201, body: GUEST, etag: '"v1"', correlationId: 'corr-201' });
  });

  it('send If-Match with a guest update and return the new ETag', async () => {
    // Prepare
    server = await startScriptedServer([{ status: 200, headers: { ETag: '"v2"' }, body: GUEST }]);
    const { client } = testClient(server.url);

    // Act
    const response = await client.updateGuest('guest-1', { attributes: { tier: 'gold' } }, '"v1"', {
      headers: { 'If-Match': '"ignored"', 'X-Request-Id': 'req-1' },
    });

    // Assess
    expect(response.etag).toBe('"v2"');
    expect(server.requests[0]?.headers['if-match']).toBe('"v1"');
    expect(server.requests[0]?.headers['x-request-id']).toBe('req-1');
  });

  it('allow an empty body (204)', async () => {
    // Prepare
    server = await startScriptedServer([{ status: 204 }]);
    const { client } = testClient(server.url);

    // Act
    const response = await client.updateContact('conv-1', { loyaltyTier: 'gold' });

    // Assess
    expect(response.status).toBe(204);
    expect(response.body).toBeUndefined();
  });

  it('never let a caller replace the bearer token', async () => {
    // Prepare
    server = await startScriptedServer([{ status: 200, body: GUEST }]);
    const { client } = testClient(server.url);

    // Act
    await client.getGuest('guest-1', { headers: { Authorization: 'Bearer forged' } });

    // Assess
    expect(server.requests[0]?.headers.authorization).toBe('Bearer token-1');
  });
});

describe('a guest update without If-Match', () => {
  it('is refused (428) before anything is sent', async () => {
    // Prepare
    server = await startScriptedServer([{ status: 200, body: GUEST }]);
    const { client } = testClient(server.url);

    // Act
    const error = await caught(() => client.updateGuest('guest-1', { attributes: { tier: 'gold' } }, ' '));

    // Assess
    expect(error).toBeInstanceOf(PreconditionRequiredError);
    expect(server.requests).toHaveLength(0);
  });
});

describe('failures', () => {
  it('carry the correlation id and Genesys error code of the last answer', async () => {
    // Prepare
    server = await startScriptedServer([
      { status: 404, headers: { 'ININ-Correlation-Id': 'corr-404' }, body: { code: 'not.found', message: 'no session' } },
    ]);
    const { client } = testClient(server.url);

    // Act
    const error = await caught<GenesysError>(() => client.putSessionAttributes(SESSION_ID, { tier: 'gold' }));

    // Assess
    expect(error).toMatchObject({
      status: 404,
      type: 'not-found',
      operation: 'putSessionAttributes',
      correlationId: 'corr-404',
      upstreamCode: 'not.found',
    });
    expect(error.message).toBe('Genesys putSessionAttributes failed with HTTP 404 after 1 attempt');
  });

  it('never repeat the request body, attribute values, the token or the session id', async () => {
    // Prepare
    const attributes = { email: '****************', note: 'call Jane at home', ssn: '***-**-****', secretCode: 'X-77-Q' };
    server = await startScriptedServer([
      { status: 400, body: { code: 'bad.request', message: 'Invalid attributes: call Jane at home, X-77-Q' } },
    ]);
    const { client } = testClient(server.url);

    // Act
    const error = await caught<GenesysError>(() => client.putSessionAttributes(SESSION_ID, attributes));

    // Assess
    const visible = JSON.stringify({
      message: error.message,
      title: error.title,
      headers: error.headers,
      extensions: error.extensions,
      cause: String(error.cause),
    });
    for (const leak of ['call Jane at home', 'X-77-Q', 'token-1', SESSION_ID, 'Invalid attributes']) {
      expect(visible).not.toContain(leak);
    }
    expect(error.message).toContain('putSessionAttributes');
    expect(error.message).toContain('400');
  });

  describe.each([
    { case: 'an unreadable success body', reply: { status: 200, body: '<html>maintenance</html>' } },
    { case: 'a status the operation does not expect', reply: { status: 202, body: GUEST } },
  ])('$case', ({ reply }) => {
    it('surfaces as 502 without a retry', async () => {
      // Prepare
      server = await startScriptedServer([reply, { status: 200, body: GUEST }]);
      const { client } = testClient(server.url);

      // Act
      const error = await caught<GenesysError>(() => client.getGuest('guest-1'));

      // Assess
      expect(error).toMatchObject({ status: 502, kind: 'http', retryable: false });
      expect(server.requests).toHaveLength(1);
    });
  });

  it('of the token source propagate unchanged, before anything is sent', async () => {
    // Prepare
    server = await startScriptedServer([{ status: 200, body: GUEST }]);
    const outage = new Error('secrets unavailable');
    const { client } = testClient(server.url, {
      tokens: { getToken: () => Promise.reject(outage), invalidate: () => undefined },
    });

    // Act
    const error = await caught(() => client.getGuest('guest-1'));

    // Assess
    expect(error).toBe(outage);
    expect(server.requests).toHaveLength(0);
  });
});
