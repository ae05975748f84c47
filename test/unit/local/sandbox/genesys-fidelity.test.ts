/**
 * What makes the sandbox Genesys worth testing against: Genesys's 429 (per organisation
 * second and per token minute), expiring tokens (401), injected faults, and the refusals
 * Genesys makes (non-string participant attributes, unknown sources, stale configuration
 * versions, oversized result pages), each in Genesys's error body.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startGenesysSandboxV2, type GenesysSandboxV2 } from '#local/sandbox/genesys/index.ts';
import { call, control, manualClock, tokenFor } from './support.ts';

const CLIENT = { clientId: 'fidelity-client', clientSecret: 'fidelity-secret' };
const DEPLOYMENT = '0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d';

describe('sandbox Genesys fidelity', () => {
  let sandbox: GenesysSandboxV2;
  let clock: ReturnType<typeof manualClock>;
  let token: string;

  const api = (path: string): string => `${sandbox.url}/api/v2${path}`;
  const deployment = (bearer = token): Promise<Response> => call(api(`/webdeployments/deployments/${DEPLOYMENT}`), bearer, 'GET');

  beforeEach(async () => {
    clock = manualClock();
    sandbox = await startGenesysSandboxV2({ clients: [CLIENT], tokenTtlSeconds: 600, clock: clock.now });
    token = await tokenFor(sandbox.url, CLIENT.clientId, CLIENT.clientSecret);
  });

  afterEach(async () => {
    await sandbox.close();
  });

  describe('rate limits', () => {
    it('answers Genesys\'s 429 past the organisation\'s per-second limit: Retry-After, ININ-Correlation-Id, too.many.requests.retry.after', async () => {
      // Prepare
      await control(sandbox.url, 'POST', '/__sandbox/config', { rateLimitPerSecond: 1 });

      // Act
      const first = await deployment();
      const second = await deployment();
      clock.advance(1_000);
      const third = await deployment();

      // Assess
      expect(first.status).toBe(200);
      expect(second.status).toBe(429);
      expect(second.headers.get('retry-after')).toBe('1');
      const correlationId = second.headers.get('inin-correlation-id');
      expect(correlationId).toEqual(expect.any(String));
      expect(await second.json()).toMatchObject({ status: 429, code: 'too.many.requests.retry.after', contextId: correlationId });
      expect(third.status).toBe(200);
    });

    it('limits each token to its per-minute budget, leaves other tokens alone, and says when to come back', async () => {
      // Prepare
      await control(sandbox.url, 'POST', '/__sandbox/config', { tokenRateLimitPerMinute: 2 });
      const other = await tokenFor(sandbox.url, CLIENT.clientId, CLIENT.clientSecret);

      // Act
      await deployment();
      clock.advance(15_000);
      await deployment();
      const spent = await deployment();
      const otherToken = await deployment(other);
      clock.advance(45_000);
      const renewed = await deployment();

      // Assess
      expect(spent.status).toBe(429);
      expect(spent.headers.get('retry-after')).toBe('45');
      expect(await spent.json()).toMatchObject({ code: 'too.many.requests.retry.after', message: expect.stringContaining('[45] seconds') });
      expect(otherToken.status).toBe(200);
      expect(renewed.status).toBe(200);
    });

    it('takes the 300-requests-per-minute token limit as an option', async () => {
      // Prepare
      await sandbox.close();
      sandbox = await startGenesysSandboxV2({ clients: [CLIENT], tokenRateLimitPerMinute: 300, clock: clock.now });
      token = await tokenFor(sandbox.url, CLIENT.clientId, CLIENT.clientSecret);

      // Act
      const statuses: number[] = [];
      for (let index = 0; index < 301; index += 1) statuses.push((await deployment()).status);

      // Assess
      expect(statuses.filter((status) => status === 200)).toHaveLength(300);
      expect(statuses.at(-1)).toBe(429);
      expect(sandbox.state().config.tokenRateLimitPerMinute).toBe(300);
    });
  });

  describe('tokens', () => {
    it('stops accepting a token once its lifetime has passed (401 bad.credentials), and asks for one when none is sent', async () => {
      // Prepare
      const before = await deployment();

      // Act
      clock.advance(600_000);
      const expired = await deployment();
      const none = await deployment('');

      // Assess
      expect(before.status).toBe(200);
      expect(expired.status).toBe(401);
      expect(await expired.json()).toMatchObject({ status: 401, code: 'bad.credentials' });
      expect(none.status).toBe(401);
      expect(await none.json()).toMatchObject({ status: 401, code: 'authentication.required' });
      expect(sandbox.state().activeTokens).toBe(0);
    });

    it('expires every token on demand and accepts only the rotated secret afterwards', async () => {
      // Act
      await control(sandbox.url, 'POST', '/__sandbox/tokens/expire');
      const expired = await deployment();
      await control(sandbox.url, 'PUT', '/__sandbox/clients', { clients: [{ clientId: CLIENT.clientId, clientSecret: 'rotated' }] });
      const oldSecret = await fetch(`${sandbox.url}/oauth/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${CLIENT.clientId}:${CLIENT.clientSecret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials',
      });
      const fresh = await tokenFor(sandbox.url, CLIENT.clientId, 'rotated');

      // Assess
      expect(expired.status).toBe(401);
      expect(oldSecret.status).toBe(401);
      expect(await oldSecret.json()).toMatchObject({ error: 'invalid_client' });
      expect((await deployment(fresh)).status).toBe(200);
    });
  });

  describe('faults', () => {
    it('injects a status on the named SDK operation only, in Genesys\'s error body', async () => {
      // Prepare
      await control(sandbox.url, 'POST', '/__sandbox/faults', { rules: [{ operation: 'getWebdeploymentsDeployment', status: 503, times: 1 }] });

      // Act
      const faulted = await deployment();
      const sources = await call(api('/externalcontacts/externalsources'), token, 'GET');
      const next = await deployment();

      // Assess
      expect(faulted.status).toBe(503);
      expect(await faulted.json()).toMatchObject({ status: 503, code: 'service.unavailable' });
      expect(sources.status).toBe(200);
      expect(next.status).toBe(200);
    });

    it('gives an injected 429 a Retry-After even when the rule names none, as Genesys always does', async () => {
      // Prepare
      await control(sandbox.url, 'POST', '/__sandbox/faults', { rules: [{ status: 429, times: 1 }] });

      // Act
      const response = await deployment();

      // Assess
      expect(response.status).toBe(429);
      expect(response.headers.get('retry-after')).toBe('1');
      expect(await response.json()).toMatchObject({ code: 'too.many.requests.retry.after' });
    });

    it('drops the connection after applying a PATCH, so the caller cannot tell it landed', async () => {
      // Prepare
      const started = await control<{ conversationId: string; customerParticipantId: string }>(
        sandbox.url,
        'POST',
        '/__sandbox/messenger/conversations',
        { customAttributes: { gsRef: 'r' } },
      );
      await control(sandbox.url, 'POST', '/__sandbox/faults', {
        rules: [{ operation: 'patchConversationParticipantAttributes', delayAfterCommitMs: 0, dropConnection: true, times: 1 }],
      });

      // Act
      const attempt = call(
        api(`/conversations/${started.conversationId}/participants/${started.customerParticipantId}/attributes`),
        token,
        'PATCH',
        { attributes: { tier: 'gold' } },
      );

      // Assess
      await expect(attempt).rejects.toThrow();
      expect(sandbox.state().conversations[started.conversationId]?.customer.attributes).toEqual({ gsRef: 'r', tier: 'gold' });
    });
  });

  describe('refusals', () => {
    it('refuses non-string participant attributes with 400 naming the key, and changes nothing', async () => {
      // Prepare
      const started = await control<{ conversationId: string; customerParticipantId: string }>(
        sandbox.url,
        'POST',
        '/__sandbox/messenger/conversations',
        { customAttributes: { gsRef: 'r' } },
      );
      const url = api(`/conversations/${started.conversationId}/participants/${started.customerParticipantId}/attributes`);

      // Act
      const answers = await Promise.all(
        [{ count: 3 }, { ok: true }, { nested: { a: 'b' } }, { gone: null }].map((attributes) => call(url, token, 'PATCH', { attributes })),
      );
      const unknownParticipant = await call(
        api(`/conversations/${started.conversationId}/participants/00000000-0000-4000-8000-000000000000/attributes`),
        token,
        'PATCH',
        { attributes: { a: 'b' } },
      );

      // Assess
      const bodies = (await Promise.all(answers.map((answer) => answer.json()))) as Array<{ details: Array<{ fieldName: string }> }>;
      expect(answers.map((answer) => answer.status)).toEqual([400, 400, 400, 400]);
      expect(bodies.map((body) => body.details[0]?.fieldName)).toEqual(['attributes.count', 'attributes.ok', 'attributes.nested', 'attributes.gone']);
      expect(unknownParticipant.status).toBe(404);
      expect(sandbox.state().conversations[started.conversationId]?.customer.attributes).toEqual({ gsRef: 'r' });
      expect(sandbox.state().events).toHaveLength(1);
    });

    it('refuses a contact naming an unknown external source, or custom fields without a schema', async () => {
      // Act
      const unknownSource = await call(api('/externalcontacts/contacts'), token, 'POST', {
        externalIds: [{ externalSource: { id: 'nope' }, value: 'hash' }],
      });
      const noSchema = await call(api('/externalcontacts/contacts'), token, 'POST', { customFields: { tier_text: 'gold' } });

      // Assess
      expect(unknownSource.status).toBe(400);
      expect(await unknownSource.json()).toMatchObject({ code: 'invalid.value', details: [{ fieldName: 'externalIds[0].externalSource.id' }] });
      expect(noSchema.status).toBe(400);
      expect(sandbox.state().externalContacts).toEqual({});
    });

    it('refuses a configuration written over a newer version (409) and an EventBridge configuration that cannot work (400)', async () => {
      // Prepare
      const created = (await (
        await call(api('/integrations'), token, 'POST', { name: 'events', integrationType: { id: 'amazon-eventbridge-source' } })
      ).json()) as { id: string };
      const config = (properties: Record<string, unknown>, version: number): Record<string, unknown> => ({
        name: 'events',
        version,
        properties,
        advanced: {},
        notes: '',
        credentials: {},
      });
      const good = { awsAccountId: '123456789012', awsAccountRegion: 'us-east-1', eventSourceSuffix: 's', eventFilter: ['v2.detail.events.conversation.{id}.attributes'] };

      // Act
      const first = await call(api(`/integrations/${created.id}/config/current`), token, 'PUT', config(good, 1));
      const stale = await call(api(`/integrations/${created.id}/config/current`), token, 'PUT', config(good, 1));
      const badAccount = await call(api(`/integrations/${created.id}/config/current`), token, 'PUT', config({ ...good, awsAccountId: '42' }, 2));

      // Assess
      expect(first.status).toBe(200);
      expect(stale.status).toBe(409);
      expect(await stale.json()).toMatchObject({ code: 'conflict' });
      expect(badAccount.status).toBe(400);
    });

    it('refuses an audit result page larger than 500', async () => {
      // Prepare
      const now = clock.now();
      const submitted = (await (
        await call(api('/audits/query'), token, 'POST', {
          interval: `${new Date(now - 60_000).toISOString()}/${new Date(now + 60_000).toISOString()}`,
          serviceName: 'Integrations',
        })
      ).json()) as { id: string };

      // Act
      const tooLarge = await call(api(`/audits/query/${submitted.id}/results?pageSize=501`), token, 'GET');
      const largest = await call(api(`/audits/query/${submitted.id}/results?pageSize=500`), token, 'GET');

      // Assess
      expect(tooLarge.status).toBe(400);
      expect(largest.status).toBe(200);
    });
  });

  it('lets another writer change a contact, moving its modifyDate, as an agent editing it would', async () => {
    // Prepare
    const source = (await (await call(api('/externalcontacts/externalsources'), token, 'POST', { name: 'src' })).json()) as { id: string };
    const created = (await (
      await call(api('/externalcontacts/contacts'), token, 'POST', { externalIds: [{ externalSource: { id: source.id }, value: 'h' }] })
    ).json()) as { id: string; modifyDate: string };

    // Act
    const touched = await control<{ modifyDate: string; title: string }>(
      sandbox.url,
      'POST',
      `/__sandbox/externalcontacts/contacts/${created.id}/touch`,
      { title: 'Dr' },
    );
    const read = (await (await call(api(`/externalcontacts/contacts/${created.id}`), token, 'GET')).json()) as Record<string, unknown>;

    // Assess
    expect(Date.parse(touched.modifyDate)).toBeGreaterThan(Date.parse(created.modifyDate));
    expect(read).toMatchObject({ title: 'Dr', modifyDate: touched.modifyDate, externalIds: [{ value: 'h' }] });
  });

  it('keeps an audit query Running for the configured polls and serves results only once it Succeeded', async () => {
    // Prepare
    await control(sandbox.url, 'POST', '/__sandbox/config', { auditPendingPolls: 2 });
    const now = clock.now();
    const submitted = (await (
      await call(api('/audits/query'), token, 'POST', {
        interval: `${new Date(now - 60_000).toISOString()}/${new Date(now + 60_000).toISOString()}`,
        serviceName: 'integrations',
      })
    ).json()) as { id: string; state: string; serviceName: string };

    // Act
    const early = await call(api(`/audits/query/${submitted.id}/results`), token, 'GET');
    const states: string[] = [];
    for (let poll = 0; poll < 2; poll += 1) {
      states.push(((await (await call(api(`/audits/query/${submitted.id}`), token, 'GET')).json()) as { state: string }).state);
    }
    const done = await call(api(`/audits/query/${submitted.id}/results`), token, 'GET');

    // Assess
    expect(submitted).toMatchObject({ state: 'Running', serviceName: 'Integrations' });
    expect(early.status).toBe(400);
    expect(states).toEqual(['Running', 'Succeeded']);
    expect(done.status).toBe(200);
  });

  it('forgets everything on reset', async () => {
    // Prepare
    await control(sandbox.url, 'POST', '/__sandbox/messenger/conversations', { customAttributes: { gsRef: 'r' } });
    await call(api('/externalcontacts/externalsources'), token, 'POST', { name: 'src' });

    // Act
    await control(sandbox.url, 'POST', '/__sandbox/reset');

    // Assess
    const state = sandbox.state();
    expect(state.conversations).toEqual({});
    expect(state.externalSources).toEqual([]);
    expect(state.events).toEqual([]);
    expect((await deployment()).status).toBe(401);
  });

  it('keeps the seeded set-up (an external source and a contact schema with fixed ids) across resets, and contacts may use it', async () => {
    // Prepare
    const seeded = await startGenesysSandboxV2({
      clients: [CLIENT],
      seed: {
        externalSources: [{ id: 'source-1', body: { name: 'Web messaging guests' } }],
        contactSchemas: [{ id: 'schema-1', body: { jsonSchema: { title: 'Guest', properties: { tier_text: { type: 'string' } } } } }],
      },
    });
    try {
      await control(seeded.url, 'POST', '/__sandbox/reset');
      const bearer = await tokenFor(seeded.url, CLIENT.clientId, CLIENT.clientSecret);

      // Act
      const created = await call(`${seeded.url}/api/v2/externalcontacts/contacts`, bearer, 'POST', {
        externalIds: [{ externalSource: { id: 'source-1' }, value: 'a'.repeat(64) }],
        schema: { id: 'schema-1', version: 1 },
        customFields: { tier_text: 'gold' },
      });
      const unknownSource = await call(`${seeded.url}/api/v2/externalcontacts/contacts`, bearer, 'POST', {
        externalIds: [{ externalSource: { id: 'source-2' }, value: 'b'.repeat(64) }],
      });

      // Assess
      expect(created.status).toBe(200);
      expect(unknownSource.status).toBe(400);
      expect(seeded.state().externalSources).toEqual([expect.objectContaining({ id: 'source-1', name: 'Web messaging guests', active: true })]);
      expect(seeded.state().contactSchemas).toEqual([expect.objectContaining({ id: 'schema-1', name: 'Guest', version: 1 })]);
    } finally {
      await seeded.close();
    }
  });
});
