import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startGenesysSandbox, type GenesysSandbox, type SandboxGuest } from '../../../../local/sandbox/index.ts';
import { SESSION_ID, call, control, manualClock, requestToken, tokenFor } from './support.ts';

const CLIENT = { clientId: 'sandbox-client', clientSecret: 's3cret' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('Genesys sandbox', () => {
  let sandbox: GenesysSandbox;
  let clock: ReturnType<typeof manualClock>;
  let token: string;

  const api = (path: string): string => `${sandbox.url}/api/v2${path}`;
  const sessionUrl = (id = SESSION_ID): string => api(`/guests/messagesessions/${id}/attributes`);
  const guestsUrl = (id?: string): string => api(`/conversations/webmessaging/guests${id ? `/${id}` : ''}`);

  beforeEach(async () => {
    clock = manualClock();
    sandbox = await startGenesysSandbox({ clients: [CLIENT], tokenTtlSeconds: 600, clock: clock.now });
    token = await tokenFor(sandbox.url, CLIENT.clientId, CLIENT.clientSecret);
  });

  afterEach(async () => {
    await sandbox.close();
  });

  describe('token', () => {
    it('issues a bearer token for valid client credentials', async () => {
      // Act
      const response = await requestToken(sandbox.url, CLIENT.clientId, CLIENT.clientSecret);

      // Assess
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ access_token: expect.any(String), token_type: 'bearer', expires_in: 600 });
      expect(sandbox.state().tokensIssued).toBe(2);
    });

    it('rejects a wrong secret with invalid_client and a wrong grant with 400', async () => {
      // Act
      const wrongSecret = await requestToken(sandbox.url, CLIENT.clientId, 'nope');
      const wrongGrant = await requestToken(sandbox.url, CLIENT.clientId, CLIENT.clientSecret, 'grant_type=password');
      const noGrant = await requestToken(sandbox.url, CLIENT.clientId, CLIENT.clientSecret, 'scope=x');

      // Assess
      expect(wrongSecret.status).toBe(401);
      expect(await wrongSecret.json()).toMatchObject({ error: 'invalid_client' });
      expect(wrongGrant.status).toBe(400);
      expect(await wrongGrant.json()).toMatchObject({ error: 'unsupported_grant_type' });
      expect(noGrant.status).toBe(400);
    });

    it('stops accepting a token once its lifetime has passed', async () => {
      // Prepare
      const body = { attributes: { step: 1 } };
      const before = await call(sessionUrl(), token, 'PUT', body);

      // Act
      clock.advance(600_000);
      const after = await call(sessionUrl(), token, 'PUT', body);

      // Assess
      expect(before.status).toBe(200);
      expect(after.status).toBe(401);
      expect(sandbox.state().activeTokens).toBe(0);
    });

    it('expires every issued token on demand', async () => {
      // Act
      await control(sandbox.url, 'POST', '/__sandbox/tokens/expire');
      const response = await call(sessionUrl(), token, 'PUT', { attributes: { a: 'b' } });

      // Assess
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ status: 401, code: 'bad.credentials' });
    });

    it('accepts only the new secret after a rotation, while issued tokens stay valid', async () => {
      // Act
      await control(sandbox.url, 'PUT', '/__sandbox/clients', {
        clients: [{ clientId: CLIENT.clientId, clientSecret: 'rotated' }],
      });
      const oldSecret = await requestToken(sandbox.url, CLIENT.clientId, CLIENT.clientSecret);
      const newSecret = await requestToken(sandbox.url, CLIENT.clientId, 'rotated');
      const withOldToken = await call(sessionUrl(), token, 'PUT', { attributes: { a: 1 } });

      // Assess
      expect(oldSecret.status).toBe(401);
      expect(newSecret.status).toBe(200);
      expect(withOldToken.status).toBe(200);
    });
  });

  describe('API authentication and headers', () => {
    it('answers 401 without a bearer token and tags every answer with a correlation id', async () => {
      // Act
      const response = await call(sessionUrl(), undefined, 'PUT', { attributes: { a: 1 } });

      // Assess
      expect(response.status).toBe(401);
      expect(response.headers.get('inin-correlation-id')).toMatch(UUID);
      expect(sandbox.state().sessions).toEqual({});
    });
  });

  describe('session attributes', () => {
    const bodyOfBytes = (bytes: number): string => {
      const empty = JSON.stringify({ attributes: { pad: '' } });
      return JSON.stringify({ attributes: { pad: 'x'.repeat(bytes - empty.length) } });
    };

    it('accepts a body of exactly 10,240 bytes and rejects 10,241 bytes', async () => {
      // Prepare
      const atLimit = bodyOfBytes(10_240);
      const overLimit = bodyOfBytes(10_241);

      // Act
      const accepted = await call(sessionUrl(), token, 'PUT', atLimit);
      const rejected = await call(sessionUrl(), token, 'PUT', overLimit);

      // Assess
      expect(Buffer.byteLength(atLimit)).toBe(10_240);
      expect(accepted.status).toBe(200);
      expect(rejected.status).toBe(400);
    });

    it('counts UTF-8 bytes, not characters', async () => {
      // Prepare
      const empty = JSON.stringify({ attributes: { pad: '' } }).length;
      const body = JSON.stringify({ attributes: { pad: 'é'.repeat(Math.ceil((10_240 - empty) / 2) + 1) } });

      // Act
      const response = await call(sessionUrl(), token, 'PUT', body);

      // Assess
      expect(body.length).toBeLessThan(10_240);
      expect(response.status).toBe(400);
    });

    it('merges attributes per session and answers them', async () => {
      // Act
      await call(sessionUrl(), token, 'PUT', { attributes: { tier: 'gold', vip: true } });
      const response = await call(sessionUrl(), token, 'PUT', { attributes: { tier: 'platinum', visits: 3 } });

      // Assess
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        sessionId: SESSION_ID,
        attributes: { tier: 'platinum', vip: true, visits: 3 },
      });
      expect(sandbox.state().sessions[SESSION_ID]).toEqual({ tier: 'platinum', vip: true, visits: 3 });
    });

    it('answers 404 for an expired session and for a non-UUID id', async () => {
      // Prepare
      await control(sandbox.url, 'POST', `/__sandbox/sessions/${SESSION_ID}/expire`);

      // Act
      const expired = await call(sessionUrl(), token, 'PUT', { attributes: { a: 1 } });
      const notUuid = await call(sessionUrl('not-a-session'), token, 'PUT', { attributes: { a: 1 } });

      // Assess
      expect(expired.status).toBe(404);
      expect(notUuid.status).toBe(404);
    });

    it.each([
      ['a nested object', { attributes: { nested: { a: 1 } } }],
      ['an array', { attributes: { list: [1] } }],
      ['null', { attributes: { gone: null } }],
      ['no attributes', { other: 1 }],
    ])('rejects %s with 400', async (_case, body) => {
      // Act
      const response = await call(sessionUrl(), token, 'PUT', body);

      // Assess
      expect(response.status).toBe(400);
    });

    it('answers malformed JSON with 400 and never crashes', async () => {
      // Act
      const malformed = await call(sessionUrl(), token, 'PUT', '{"attributes":');
      const healthy = await call(sessionUrl(), token, 'PUT', { attributes: { a: 1 } });

      // Assess
      expect(malformed.status).toBe(400);
      expect(await malformed.json()).toMatchObject({ status: 400, code: 'bad.request' });
      expect(healthy.status).toBe(200);
    });

    it('answers 413 for a body over 1 MiB', async () => {
      // Act
      const response = await call(api('/conversations/webmessaging/guests'), token, 'POST', {
        big: 'x'.repeat(1024 * 1024),
      });

      // Assess
      expect(response.status).toBe(413);
    });
  });

  describe('webhooks', () => {
    const webhook = {
      name: 'crm-sync',
      description: 'sync',
      enabled: true,
      type: 'web',
      address: 'https://example.com/webhooks/genesys',
      events: ['guest.session.attributes.updated'],
      filter: "sessionId eq 'x'",
      httpHeaders: { 'X-CRM-Integration': 'true' },
      secret: 'do-not-echo',
    };

    it('registers a webhook and never echoes its secret', async () => {
      // Act
      const response = await call(api('/webhooks'), token, 'POST', webhook);

      // Assess
      expect(response.status).toBe(201);
      const body = (await response.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ id: expect.any(String), name: 'crm-sync', address: webhook.address });
      expect(body).not.toHaveProperty('secret');
      expect(JSON.stringify(sandbox.state())).not.toContain('do-not-echo');
      expect(sandbox.state().webhooks).toHaveLength(1);
    });

    it('rejects a plain http address', async () => {
      // Act
      const response = await call(api('/webhooks'), token, 'POST', { ...webhook, address: 'http://example.com/x' });

      // Assess
      expect(response.status).toBe(400);
    });
  });

  describe('guests', () => {
    const createGuest = async (body: Record<string, unknown> = {}): Promise<{ guest: SandboxGuest; etag: string }> => {
      const response = await call(guestsUrl(), token, 'POST', {
        consent: { marketing: false, dataProcessing: true },
        attributes: { source: 'web', plan: 'basic' },
        ...body,
      });
      expect(response.status).toBe(201);
      return { guest: (await response.json()) as SandboxGuest, etag: response.headers.get('etag') ?? '' };
    };

    it('creates a guest with an ETag and reads it back with the same ETag', async () => {
      // Act
      const { guest, etag } = await createGuest({ messageCount: 4 });
      const read = await call(guestsUrl(guest.id), token, 'GET');

      // Assess
      expect(etag).toMatch(/^"\d+"$/);
      expect(guest).toMatchObject({ id: expect.any(String), version: 1, messageCount: 4, createdDate: expect.any(String) });
      expect(read.status).toBe(200);
      expect(read.headers.get('etag')).toBe(etag);
      expect(await read.json()).toEqual(guest);
    });

    it('answers 404 for an unknown guest', async () => {
      // Act
      const response = await call(guestsUrl('0b1c2d3e-0000-4000-8000-000000000000'), token, 'GET');

      // Assess
      expect(response.status).toBe(404);
    });

    it('requires If-Match on update (428)', async () => {
      // Prepare
      const { guest } = await createGuest();

      // Act
      const response = await call(guestsUrl(guest.id), token, 'PATCH', { attributes: { plan: 'pro' } });

      // Assess
      expect(response.status).toBe(428);
    });

    it('updates with a matching ETag: shallow merge, attributes key by key, new ETag', async () => {
      // Prepare
      const { guest, etag } = await createGuest();
      clock.advance(60_000);

      // Act
      const response = await call(
        guestsUrl(guest.id),
        token,
        'PATCH',
        { attributes: { plan: 'pro' }, conversionFlag: true },
        { 'if-match': etag },
      );

      // Assess
      expect(response.status).toBe(200);
      const updated = (await response.json()) as SandboxGuest;
      expect(updated.attributes).toEqual({ source: 'web', plan: 'pro' });
      expect(updated.conversionFlag).toBe(true);
      expect(updated.version).toBe(2);
      expect(updated.modifiedDate).not.toBe(guest.modifiedDate);
      expect(response.headers.get('etag')).not.toBe(etag);
    });

    it('answers 412 when another writer touched the guest since the read', async () => {
      // Prepare
      const { guest, etag } = await createGuest();
      const touched = await control<SandboxGuest>(sandbox.url, 'POST', `/__sandbox/guests/${guest.id}/touch`, {
        attributes: { agentNote: 'vip' },
        closedDate: '2025-03-01T12:30:00.000Z',
      });

      // Act
      const stale = await call(guestsUrl(guest.id), token, 'PATCH', { attributes: { plan: 'pro' } }, { 'if-match': etag });
      const fresh = await call(guestsUrl(guest.id), token, 'GET');
      const retried = await call(
        guestsUrl(guest.id),
        token,
        'PATCH',
        { attributes: { plan: 'pro' } },
        { 'if-match': fresh.headers.get('etag') ?? '' },
      );

      // Assess
      expect(touched.version).toBe(2);
      expect(stale.status).toBe(412);
      expect(retried.status).toBe(200);
      expect(((await retried.json()) as SandboxGuest).attributes).toEqual({ source: 'web', plan: 'pro', agentNote: 'vip' });
      expect(sandbox.state().guests[guest.id]?.closedDate).toBe('2025-03-01T12:30:00.000Z');
    });
  });

  describe('audit query', () => {
    it('finds the guest entries through submit, poll and paged results', async () => {
      // Prepare
      const created = await call(guestsUrl(), token, 'POST', { attributes: { a: '1' } });
      const guest = (await created.json()) as SandboxGuest;
      const etag = created.headers.get('etag') ?? '';
      await call(guestsUrl(guest.id), token, 'PATCH', { attributes: { a: '2' } }, { 'if-match': etag });
      await call(guestsUrl(), token, 'POST', { attributes: { other: true } });

      // Act
      const submitted = await call(api('/audits/query'), token, 'POST', {
        interval: '2025-03-01T00:00:00.000Z/2025-03-02T00:00:00.000Z',
        serviceName: 'Conversations',
        filters: [{ property: 'EntityId', value: guest.id }],
      });
      const submission = (await submitted.json()) as { id: string; state: string };
      const status = await call(api(`/audits/query/${submission.id}`), token, 'GET');
      const first = await call(api(`/audits/query/${submission.id}/results?pageSize=1`), token, 'GET');
      const firstPage = (await first.json()) as { entities: Array<{ action: string; entity: { id: string } }>; cursor?: string };
      const second = await call(
        api(`/audits/query/${submission.id}/results?pageSize=1&cursor=${firstPage.cursor ?? ''}`),
        token,
        'GET',
      );
      const secondPage = (await second.json()) as { entities: Array<{ action: string }>; cursor?: string };

      // Assess
      expect(submitted.status).toBe(202);
      expect(submission.state).toBe('Pending');
      expect(await status.json()).toMatchObject({ id: submission.id, state: 'Succeeded' });
      expect(firstPage).toMatchObject({ id: submission.id, pageSize: 1, cursor: expect.any(String) });
      expect(firstPage.entities).toEqual([
        expect.objectContaining({ action: 'Create', serviceName: 'Conversations', entity: { id: guest.id, type: 'Guest' } }),
      ]);
      expect(secondPage.entities).toEqual([expect.objectContaining({ action: 'Update' })]);
      expect(secondPage.cursor).toBeUndefined();
    });

    it('can make a query answer Running before Succeeded', async () => {
      // Prepare
      await control(sandbox.url, 'POST', '/__sandbox/config', { auditPendingPolls: 1 });
      const submitted = await call(api('/audits/query'), token, 'POST', {
        interval: '2025-03-01T00:00:00Z/2025-03-02T00:00:00Z',
        serviceName: 'Conversations',
      });
      const { id } = (await submitted.json()) as { id: string };

      // Act
      const early = await call(api(`/audits/query/${id}/results`), token, 'GET');
      const firstPoll = (await (await call(api(`/audits/query/${id}`), token, 'GET')).json()) as { state: string };
      const secondPoll = (await (await call(api(`/audits/query/${id}`), token, 'GET')).json()) as { state: string };
      const results = await call(api(`/audits/query/${id}/results`), token, 'GET');

      // Assess
      expect(early.status).toBe(400);
      expect(firstPoll.state).toBe('Running');
      expect(secondPoll.state).toBe('Succeeded');
      expect(await results.json()).toMatchObject({ entities: [] });
    });

    it('rejects a malformed interval', async () => {
      // Act
      const response = await call(api('/audits/query'), token, 'POST', { interval: 'yesterday', serviceName: 'Conversations' });

      // Assess
      expect(response.status).toBe(400);
    });
  });

  describe('conversations', () => {
    it('creates a conversation, updates its contact and shows the attributes on the customer participant', async () => {
      // Prepare
      const created = await call(api('/webmessaging/conversations'), token, 'POST', {
        channel: 'web-messaging',
        routing: { queueId: 'queue-gold', skills: [{ name: 'general-support', priority: 1 }] },
        contact: { attributes: { loyaltyTier: 'gold', preChatPriority: 'high' } },
      });
      const { id } = (await created.json()) as { id: string };

      // Act
      const updated = await call(api(`/webmessaging/conversations/${id}/contact`), token, 'PUT', {
        attributes: { firstName: 'Jane', loyaltyPoints: 120, vip: true },
      });
      const read = await call(api(`/conversations/${id}`), token, 'GET');

      // Assess
      expect([200, 201]).toContain(created.status);
      expect(updated.status).toBe(200);
      const conversation = (await read.json()) as { participants: Array<{ purpose: string; attributes: object }> };
      expect(conversation.participants.find((p) => p.purpose === 'customer')?.attributes).toEqual({
        loyaltyTier: 'gold',
        preChatPriority: 'high',
        firstName: 'Jane',
        loyaltyPoints: 120,
        vip: true,
      });
      expect(conversation.participants.some((p) => p.purpose === 'agent')).toBe(true);
    });

    it('rejects nested contact attributes and unknown conversations', async () => {
      // Prepare
      const created = await call(api('/webmessaging/conversations'), token, 'POST', { routing: { queueId: 'q' } });
      const { id } = (await created.json()) as { id: string };

      // Act
      const nested = await call(api(`/webmessaging/conversations/${id}/contact`), token, 'PUT', {
        attributes: { profile: { tier: 'gold' } },
      });
      const unknown = await call(api('/webmessaging/conversations/nope/contact'), token, 'PUT', { attributes: { a: 1 } });
      const unknownRead = await call(api('/conversations/nope'), token, 'GET');

      // Assess
      expect(nested.status).toBe(400);
      expect(unknown.status).toBe(404);
      expect(unknownRead.status).toBe(404);
    });
  });

  describe('web deployments', () => {
    it('reports Active by default, then the status a control sets, then 404 once deleted', async () => {
      // Prepare
      const url = api('/webdeployments/deployments/dep-1');

      // Act
      const active = (await (await call(url, token, 'GET')).json()) as { status: string };
      await control(sandbox.url, 'POST', '/__sandbox/deployments/dep-1', { status: 'Inactive' });
      const inactive = (await (await call(url, token, 'GET')).json()) as { id: string; status: string };
      await control(sandbox.url, 'DELETE', '/__sandbox/deployments/dep-1');
      const deleted = await call(url, token, 'GET');

      // Assess
      expect(active.status).toBe('Active');
      expect(inactive).toMatchObject({ id: 'dep-1', status: 'Inactive' });
      expect(deleted.status).toBe(404);
    });
  });

  describe('rate limit', () => {
    it('answers 429 with Retry-After: 1 beyond the per-second limit, then recovers next second', async () => {
      // Prepare
      await control(sandbox.url, 'POST', '/__sandbox/config', { rateLimitPerSecond: 2 });
      const put = (): Promise<Response> => call(sessionUrl(), token, 'PUT', { attributes: { a: 1 } });

      // Act
      const statuses = [(await put()).status, (await put()).status];
      const limited = await put();
      clock.advance(1_000);
      const recovered = await put();

      // Assess
      expect(statuses).toEqual([200, 200]);
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('1');
      expect(recovered.status).toBe(200);
    });
  });

  describe('faults', () => {
    const put = (): Promise<Response> => call(sessionUrl(), token, 'PUT', { attributes: { a: 1 } });

    it('injects a status for the given number of matching requests', async () => {
      // Prepare
      await control(sandbox.url, 'POST', '/__sandbox/faults', {
        rules: [{ operation: 'putSessionAttributes', status: 503, times: 2 }],
      });

      // Act
      const statuses = [(await put()).status, (await put()).status, (await put()).status];

      // Assess
      expect(statuses).toEqual([503, 503, 200]);
      expect(sandbox.state().faults[0]).toMatchObject({ applied: 2 });
    });

    it('adds Retry-After and skips the first matches with afterCount', async () => {
      // Prepare
      await control(sandbox.url, 'POST', '/__sandbox/faults', {
        rules: [{ operation: 'putSessionAttributes', status: 429, retryAfterSeconds: 7, afterCount: 1, times: 1 }],
      });

      // Act
      const first = await put();
      const second = await put();
      const third = await put();

      // Assess
      expect(first.status).toBe(200);
      expect(second.status).toBe(429);
      expect(second.headers.get('retry-after')).toBe('7');
      expect(third.status).toBe(200);
    });

    it('delays an answer', async () => {
      // Prepare
      await control(sandbox.url, 'POST', '/__sandbox/faults', { rules: [{ operation: 'putSessionAttributes', delayMs: 150, times: 1 }] });
      const startedAt = Date.now();

      // Act
      const response = await put();

      // Assess
      expect(response.status).toBe(200);
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(140);
    });

    it('drops the connection, which the caller sees as a network error', async () => {
      // Prepare
      await control(sandbox.url, 'POST', '/__sandbox/faults', { rules: [{ operation: 'putSessionAttributes', dropConnection: true, times: 1 }] });

      // Act
      const dropped = put();

      // Assess
      await expect(dropped).rejects.toThrow();
      expect((await put()).status).toBe(200);
      expect(sandbox.state().requests.find((entry) => entry.dropped)).toMatchObject({ status: 0, operation: 'putSessionAttributes' });
    });

    it('applies to the token operation and matches paths by prefix or regex', async () => {
      // Prepare
      await control(sandbox.url, 'POST', '/__sandbox/faults', {
        rules: [
          { operation: 'token', status: 500, times: 1 },
          { path: '^/api/v2/webdeployments/deployments/[^/]+$', status: 502, times: 1 },
        ],
      });

      // Act
      const tokenResponse = await requestToken(sandbox.url, CLIENT.clientId, CLIENT.clientSecret);
      const deployment = await call(api('/webdeployments/deployments/d1'), token, 'GET');
      const listed = await control<{ rules: unknown[] }>(sandbox.url, 'GET', '/__sandbox/faults');
      await control(sandbox.url, 'DELETE', '/__sandbox/faults');

      // Assess
      expect(tokenResponse.status).toBe(500);
      expect(deployment.status).toBe(502);
      expect(listed.rules).toHaveLength(2);
      expect(sandbox.state().faults).toEqual([]);
    });

    it('rejects a rule with a typo or no effect', async () => {
      // Act
      const typo = await call(`${sandbox.url}/__sandbox/faults`, undefined, 'POST', { rules: [{ status: 500, time: 1 }] });
      const noEffect = await call(`${sandbox.url}/__sandbox/faults`, undefined, 'POST', { rules: [{ operation: 'token' }] });

      // Assess
      expect(typo.status).toBe(400);
      expect(noEffect.status).toBe(400);
    });
  });

  describe('state and reset', () => {
    it('logs requests without bodies, and reset clears state, faults and log', async () => {
      // Prepare
      await call(sessionUrl(), token, 'PUT', { attributes: { marker: 'body-value-xyz' } });
      await control(sandbox.url, 'POST', '/__sandbox/faults', { rules: [{ status: 500 }] });

      // Act
      const before = await control<{ requests: Array<Record<string, unknown>> }>(sandbox.url, 'GET', '/__sandbox/state');
      await control(sandbox.url, 'POST', '/__sandbox/reset');
      const after = sandbox.state();

      // Assess
      expect(before.requests.at(-1)).toMatchObject({
        operation: 'putSessionAttributes',
        method: 'PUT',
        status: 200,
        correlationId: expect.stringMatching(UUID),
      });
      expect(JSON.stringify(before.requests)).not.toContain('body-value-xyz');
      expect(after).toMatchObject({ sessions: {}, guests: {}, faults: [], requests: [], tokensIssued: 0 });
    });
  });
});
