import { afterEach, describe, expect, it } from 'vitest';
import { GenesysError, genesysOperations } from '#lib/genesys';
import type { GenesysClient } from '#lib/genesys';
import { caught, testClient } from './support.ts';
import { startScriptedServer } from '#test/support/scripted-server.ts';
import type { ScriptedServer } from '#test/support/scripted-server.ts';

const CONVERSATION_ID = '3f2a6c1e-8b7d-4e3f-9a1b-2c3d4e5f6a7b';
const PARTICIPANT_ID = '9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f';
const CONTACT = {
  id: 'contact-1',
  externalIds: [{ externalSource: { id: 'src-1' }, value: 'a'.repeat(64) }],
  customFields: { consentMarketing_boolean: false },
  createDate: '2026-03-01T10:00:00.000Z',
  modifyDate: '2026-03-01T10:05:00.000Z',
};

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Prefill's and pre-chat's write: the guest participant's attributes. */
const patchAttributes = (client: GenesysClient, attributes: Record<string, string>) =>
  client.call(genesysOperations.patchParticipantAttributes, {
    params: { conversationId: CONVERSATION_ID, participantId: PARTICIPANT_ID },
    body: { attributes },
  });
const getContact = (client: GenesysClient, headers?: Record<string, string>) =>
  client.call(genesysOperations.getExternalContact, { params: { contactId: 'contact-1' }, ...(headers ? { headers } : {}) });

describe('successful answers', () => {
  it('return the created contact with its ETag and correlation id', async () => {
    // Prepare
    server = await startScriptedServer([
      { status: 200, headers: { ETag: '"v1"', 'ININ-Correlation-Id': 'corr-200' }, body: CONTACT },
    ]);
    const { client } = testClient(server.url);

    // Act
    const response = await client.call(genesysOperations.createExternalContact, { body: { externalIds: CONTACT.externalIds } });

    // Assess
    expect(response).toEqual({ status: 200, body: CONTACT, etag: '"v1"', correlationId: 'corr-200' });
  });

  it("send the caller's extra headers with an update", async () => {
    // Prepare
    server = await startScriptedServer([{ status: 200, body: CONTACT }]);
    const { client } = testClient(server.url);

    // Act
    const response = await client.call(genesysOperations.updateExternalContact, {
      params: { contactId: 'contact-1' },
      body: CONTACT,
      headers: { 'X-Request-Id': 'req-1' },
    });

    // Assess
    expect(response.body).toEqual(CONTACT);
    expect(server.requests[0]?.headers['x-request-id']).toBe('req-1');
  });

  it('allow an empty body (the 202 of an attribute PATCH)', async () => {
    // Prepare
    server = await startScriptedServer([{ status: 202 }]);
    const { client } = testClient(server.url);

    // Act
    const response = await patchAttributes(client, { loyaltyTier: 'gold' });

    // Assess
    expect(response.status).toBe(202);
    expect(response.body).toBeUndefined();
  });

  it('never let a caller replace the bearer token', async () => {
    // Prepare
    server = await startScriptedServer([{ status: 200, body: CONTACT }]);
    const { client } = testClient(server.url);

    // Act
    await getContact(client, { Authorization: 'Bearer forged' });

    // Assess
    expect(server.requests[0]?.headers.authorization).toBe('Bearer token-1');
  });
});

describe('failures', () => {
  it('carry the correlation id and Genesys error code of the last answer', async () => {
    // Prepare
    server = await startScriptedServer([
      { status: 404, headers: { 'ININ-Correlation-Id': 'corr-404' }, body: { code: 'not.found', message: 'no conversation' } },
    ]);
    const { client } = testClient(server.url);

    // Act
    const error = await caught<GenesysError>(() => patchAttributes(client, { tier: 'gold' }));

    // Assess
    expect(error).toMatchObject({
      status: 404,
      type: 'not-found',
      operation: 'patchParticipantAttributes',
      correlationId: 'corr-404',
      upstreamCode: 'not.found',
    });
    expect(error.message).toBe('Genesys patchParticipantAttributes failed with HTTP 404 after 1 attempt');
  });

  it('never repeat the request body, attribute values, the token or the conversation and participant ids', async () => {
    // Prepare
    const attributes = { email: '****************', note: 'call Jane at home', ssn: '***-**-****', secretCode: 'X-77-Q' };
    server = await startScriptedServer([
      { status: 400, body: { code: 'bad.request', message: 'Invalid attributes: call Jane at home, X-77-Q' } },
    ]);
    const { client } = testClient(server.url);

    // Act
    const error = await caught<GenesysError>(() => patchAttributes(client, attributes));

    // Assess
    const visible = JSON.stringify({
      message: error.message,
      title: error.title,
      headers: error.headers,
      extensions: error.extensions,
      cause: String(error.cause),
    });
    for (const leak of ['call Jane at home', 'X-77-Q', 'token-1', CONVERSATION_ID, PARTICIPANT_ID, 'Invalid attributes']) {
      expect(visible).not.toContain(leak);
    }
    expect(error.message).toContain('patchParticipantAttributes');
    expect(error.message).toContain('400');
  });

  describe.each([
    { case: 'an unreadable success body', reply: { status: 200, body: '<html>maintenance</html>' } },
    { case: 'a status the operation does not expect', reply: { status: 202, body: CONTACT } },
  ])('$case', ({ reply }) => {
    it('surfaces as 502 without a retry', async () => {
      // Prepare
      server = await startScriptedServer([reply, { status: 200, body: CONTACT }]);
      const { client } = testClient(server.url);

      // Act
      const error = await caught<GenesysError>(() => getContact(client));

      // Assess
      expect(error).toMatchObject({ status: 502, kind: 'http', retryable: false });
      expect(server.requests).toHaveLength(1);
    });
  });

  it('of the token source propagate unchanged, before anything is sent', async () => {
    // Prepare
    server = await startScriptedServer([{ status: 200, body: CONTACT }]);
    const outage = new Error('secrets unavailable');
    const { client } = testClient(server.url, {
      tokens: { getToken: () => Promise.reject(outage), invalidate: () => undefined },
    });

    // Act
    const error = await caught(() => getContact(client));

    // Assess
    expect(error).toBe(outage);
    expect(server.requests).toHaveLength(0);
  });
});
