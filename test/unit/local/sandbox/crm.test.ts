import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCrmSandbox, type CrmRecord, type CrmSandbox } from '#local/sandbox/index.ts';
import { call, control, manualClock } from './support.ts';

const API_TOKEN = 'crm-token';

/** A valid record with defaults a test can override. */
function recordFactory(overrides: Partial<CrmRecord> & Record<string, unknown> = {}): CrmRecord {
  return {
    externalId: 'guest-1',
    emailHash: 'a'.repeat(64),
    consentFlags: { marketing: false, dataProcessing: true },
    attributes: { tier: 'gold' },
    lastInteraction: '2025-03-01T10:00:00.000Z',
    sourceUpdatedAt: '2025-03-01T10:00:00.000Z',
    ...overrides,
  };
}

describe('CRM sandbox', () => {
  let sandbox: CrmSandbox;
  let clock: ReturnType<typeof manualClock>;

  const upsert = (key: string, records: unknown[], headerKey: string | null = key, token = API_TOKEN): Promise<Response> =>
    call(
      `${sandbox.url}/records/batch-upsert`,
      token,
      'POST',
      { idempotencyKey: key, records },
      headerKey === null ? {} : { 'idempotency-key': headerKey },
    );

  const resultsOf = async (response: Response): Promise<Array<{ externalId: string; status: string; error?: { code: string } }>> =>
    ((await response.json()) as { results: Array<{ externalId: string; status: string; error?: { code: string } }> }).results;

  beforeEach(async () => {
    clock = manualClock();
    sandbox = await startCrmSandbox({
      apiToken: API_TOKEN,
      clock: clock.now,
      customers: [
        {
          id: 'cust-42',
          firstName: 'Jane',
          lastName: 'Doe',
          loyaltyTier: 'platinum',
          accountStatus: 'active',
          loyaltyPoints: 1200,
          email: 'jane.doe@example.com',
          phone: '+1 (555) 123-4567',
        },
      ],
    });
  });

  afterEach(async () => {
    await sandbox.close();
  });

  describe('authentication', () => {
    it('answers 401 without the bearer token and accepts only the new token after a rotation', async () => {
      // Prepare
      const lookup = (token?: string): Promise<Response> =>
        call(`${sandbox.url}/customers?email=jane.doe@example.com`, token, 'GET');

      // Act
      const anonymous = await lookup();
      await control(sandbox.url, 'PUT', '/__sandbox/token', { apiToken: 'rotated' });
      const oldToken = await lookup(API_TOKEN);
      const newToken = await lookup('rotated');

      // Assess
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('content-type')).toContain('application/problem+json');
      expect(oldToken.status).toBe(401);
      expect(newToken.status).toBe(200);
    });
  });

  describe('customer lookup', () => {
    it('finds a seeded customer by email or by phone and never returns email or phone', async () => {
      // Act
      const byEmail = await call(`${sandbox.url}/customers?email=JANE.DOE@example.com`, API_TOKEN, 'GET');
      const byPhone = await call(`${sandbox.url}/customers?phone=555-123-4567`, API_TOKEN, 'GET');

      // Assess
      const expected = [
        { id: 'cust-42', firstName: 'Jane', lastName: 'Doe', loyaltyTier: 'platinum', accountStatus: 'active', loyaltyPoints: 1200 },
      ];
      expect(byEmail.status).toBe(200);
      expect(await byEmail.json()).toEqual(expected);
      expect(await byPhone.json()).toEqual(expected);
    });

    it('answers 404 when nothing matches, or [] when configured so', async () => {
      // Act
      const missing = await call(`${sandbox.url}/customers?email=nobody@example.com`, API_TOKEN, 'GET');
      await control(sandbox.url, 'POST', '/__sandbox/config', { customerNotFound: 'empty' });
      const empty = await call(`${sandbox.url}/customers?email=nobody@example.com`, API_TOKEN, 'GET');

      // Assess
      expect(missing.status).toBe(404);
      expect(empty.status).toBe(200);
      expect(await empty.json()).toEqual([]);
    });

    it('finds customers seeded through the control route and keeps the query out of the log', async () => {
      // Prepare
      await control(sandbox.url, 'POST', '/__sandbox/customers', {
        customers: [{ id: 'cust-7', firstName: 'Sam', lastName: 'Lee', loyaltyTier: 'gold', accountStatus: 'active', loyaltyPoints: 5, email: 'sam@example.com' }],
      });

      // Act
      const response = await call(`${sandbox.url}/customers?email=sam@example.com`, API_TOKEN, 'GET');

      // Assess
      expect(await response.json()).toEqual([expect.objectContaining({ id: 'cust-7', loyaltyTier: 'gold' })]);
      expect(JSON.stringify(sandbox.state().requests)).not.toContain('sam@example.com');
    });
  });

  describe('batch upsert', () => {
    it('creates records and answers results in request order', async () => {
      // Act
      const response = await upsert('key-1', [recordFactory({ externalId: 'b' }), recordFactory({ externalId: 'a' })]);

      // Assess
      expect(response.status).toBe(200);
      expect(await resultsOf(response)).toEqual([
        { externalId: 'b', status: 'created' },
        { externalId: 'a', status: 'created' },
      ]);
      expect(Object.keys(sandbox.state().records).sort()).toEqual(['a', 'b']);
    });

    it('replays a repeated key with an identical body without applying it again', async () => {
      // Prepare
      const records = [recordFactory()];
      const first = await upsert('key-replay', records);

      // Act
      const second = await upsert('key-replay', records);

      // Assess
      expect(second.status).toBe(200);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      expect(await resultsOf(second)).toEqual(await resultsOf(first));
      const state = sandbox.state();
      expect(state.idempotency['key-replay']).toMatchObject({ applications: 1, replays: 1, state: 'done' });
      expect(state.records['guest-1']?.versions).toBe(1);
      expect(state.appliedKeys).toBe(1);
      expect(state.duplicateApplications).toEqual([]);
    });

    it('answers 422 when a key is reused with a different body', async () => {
      // Prepare
      await upsert('key-reused', [recordFactory()]);

      // Act
      const response = await upsert('key-reused', [recordFactory({ attributes: { tier: 'platinum' } })]);

      // Assess
      expect(response.status).toBe(422);
      expect(sandbox.state().records['guest-1']?.record.attributes).toEqual({ tier: 'gold' });
    });

    it('answers 409 while the first request with the key is still in flight, then replays', async () => {
      // Prepare
      await control(sandbox.url, 'POST', '/__sandbox/faults', {
        rules: [{ operation: 'batchUpsert', delayAfterCommitMs: 300, times: 1 }],
      });
      const records = [recordFactory()];
      const slow = upsert('key-slow', records);
      await expect.poll(() => sandbox.state().idempotency['key-slow']?.state).toBe('inflight');

      // Act
      const concurrent = await upsert('key-slow', records);
      const firstAnswer = await slow;
      const later = await upsert('key-slow', records);

      // Assess
      expect(concurrent.status).toBe(409);
      expect(firstAnswer.status).toBe(200);
      expect(later.status).toBe(200);
      expect(later.headers.get('idempotent-replayed')).toBe('true');
      expect(sandbox.state().idempotency['key-slow']?.applications).toBe(1);
      expect(sandbox.state().duplicateApplications).toEqual([]);
    });

    it('commits and then drops the connection, so a retry with the same key replays', async () => {
      // Prepare
      await control(sandbox.url, 'POST', '/__sandbox/faults', {
        rules: [{ operation: 'batchUpsert', delayAfterCommitMs: 0, dropConnection: true, times: 1 }],
      });
      const records = [recordFactory()];

      // Act
      const dropped = upsert('key-drop', records);
      await expect(dropped).rejects.toThrow();
      const retry = await upsert('key-drop', records);

      // Assess
      expect(retry.status).toBe(200);
      expect(await resultsOf(retry)).toEqual([{ externalId: 'guest-1', status: 'created' }]);
      expect(sandbox.state().idempotency['key-drop']).toMatchObject({ applications: 1, replays: 1 });
      expect(sandbox.state().requestsByStatus).toMatchObject({ dropped: 1, '200': 1 });
    });

    it('applies what it is sent as the contract says: fields not sent keep their value, attributes and consent merge key by key, the same content is unchanged', async () => {
      // Prepare
      await upsert('k1', [recordFactory({ sourceUpdatedAt: '2025-03-01T10:00:00.000Z', emailHash: 'a'.repeat(64), attributes: { tier: 'gold', source: 'web' }, consentFlags: { marketing: false } })]);

      // Act
      const newer = await upsert('k2', [{ externalId: 'guest-1', lastInteraction: '2025-03-01T11:00:00.000Z', sourceUpdatedAt: '2025-03-01T11:00:00.000Z', attributes: { tier: 'platinum' } }]);
      const same = await upsert('k3', [{ externalId: 'guest-1', lastInteraction: '2025-03-01T11:00:00.000Z', sourceUpdatedAt: '2025-03-01T11:00:00.000Z', attributes: { tier: 'platinum' } }]);
      const older = await upsert('k4', [{ externalId: 'guest-1', lastInteraction: '2025-03-01T09:00:00.000Z', sourceUpdatedAt: '2025-03-01T09:00:00.000Z', consentFlags: { dataProcessing: true } }]);

      // Assess: like a real CRM it applies an older version too (ordering is the worker's job)
      expect((await resultsOf(newer))[0]?.status).toBe('updated');
      expect((await resultsOf(same))[0]?.status).toBe('unchanged');
      expect((await resultsOf(older))[0]?.status).toBe('updated');
      const stored = sandbox.state().records['guest-1'];
      expect(stored?.record).toMatchObject({
        emailHash: 'a'.repeat(64),
        attributes: { tier: 'platinum', source: 'web' },
        consentFlags: { marketing: false, dataProcessing: true },
        sourceUpdatedAt: '2025-03-01T09:00:00.000Z',
      });
      expect(stored).toMatchObject({ versions: 3, lastKey: 'k4' });
    });

    it('fails an injected record in the middle of a chunk while its chunk-mates are applied', async () => {
      // Prepare
      await control(sandbox.url, 'POST', '/__sandbox/record-failures', {
        rules: [{ externalId: 'middle', code: 'CONSENT_REJECTED', message: 'consent missing', times: 1 }],
      });

      // Act
      const response = await upsert('chunk', [
        recordFactory({ externalId: 'first' }),
        recordFactory({ externalId: 'middle' }),
        recordFactory({ externalId: 'last' }),
      ]);

      // Assess
      expect(await resultsOf(response)).toEqual([
        { externalId: 'first', status: 'created' },
        { externalId: 'middle', status: 'failed', error: { code: 'CONSENT_REJECTED', message: 'consent missing' } },
        { externalId: 'last', status: 'created' },
      ]);
      expect(Object.keys(sandbox.state().records).sort()).toEqual(['first', 'last']);
    });

    it.each([
      ['no externalId', { externalId: undefined }],
      ['no sourceUpdatedAt', { sourceUpdatedAt: undefined }],
      ['a non-ISO sourceUpdatedAt', { sourceUpdatedAt: 'yesterday' }],
      ['a plaintext emailHash', { emailHash: 'jane@example.com' }],
    ])('fails a record with %s as VALIDATION_ERROR', async (_case, overrides) => {
      // Act
      const response = await upsert('invalid', [recordFactory(overrides), recordFactory({ externalId: 'ok' })]);

      // Assess
      const results = await resultsOf(response);
      expect(results[0]).toMatchObject({ status: 'failed', error: { code: 'VALIDATION_ERROR' } });
      expect(results[1]).toEqual({ externalId: 'ok', status: 'created' });
    });

    it('requires the Idempotency-Key header to equal the body key and caps a batch at 500 records', async () => {
      // Act
      const missing = await upsert('k', [recordFactory()], null);
      const different = await upsert('k', [recordFactory()], 'other');
      const tooMany = await upsert('big', Array.from({ length: 501 }, (_, i) => recordFactory({ externalId: `g-${i}` })));

      // Assess
      expect(missing.status).toBe(400);
      expect(different.status).toBe(400);
      expect(tooMany.status).toBe(413);
      expect(sandbox.state().appliedKeys).toBe(0);
    });

    it('does not store a faulted request, so a retry after a 503 applies once', async () => {
      // Prepare
      await control(sandbox.url, 'POST', '/__sandbox/faults', { rules: [{ operation: 'batchUpsert', status: 503, times: 1 }] });

      // Act
      const failed = await upsert('k-503', [recordFactory()]);
      const retried = await upsert('k-503', [recordFactory()]);

      // Assess
      expect(failed.status).toBe(503);
      expect(retried.status).toBe(200);
      expect(retried.headers.get('idempotent-replayed')).toBeNull();
      expect(sandbox.state().idempotency['k-503']?.applications).toBe(1);
    });
  });

  describe('rate limit, state and reset', () => {
    it('answers 429 with Retry-After beyond the configured limit', async () => {
      // Prepare
      await control(sandbox.url, 'POST', '/__sandbox/config', { rateLimitPerSecond: 1 });

      // Act
      const first = await upsert('r1', [recordFactory()]);
      const second = await upsert('r2', [recordFactory({ externalId: 'g2' })]);
      clock.advance(1_000);
      const third = await upsert('r2', [recordFactory({ externalId: 'g2' })]);

      // Assess
      expect(first.status).toBe(200);
      expect(second.status).toBe(429);
      expect(second.headers.get('retry-after')).toBe('1');
      expect(third.status).toBe(200);
    });

    it('counts requests by status and resets to the seeded customers', async () => {
      // Prepare
      await upsert('s1', [recordFactory()]);
      await upsert('s1', [recordFactory({ attributes: {} })]);
      await control(sandbox.url, 'POST', '/__sandbox/customers', { customers: [{ id: 'extra' }] });

      // Act
      const before = sandbox.state();
      await control(sandbox.url, 'POST', '/__sandbox/reset');
      const after = sandbox.state();

      // Assess
      expect(before.requestsByStatus).toEqual({ '200': 1, '422': 1 });
      expect(before.requests.map((entry) => entry.idempotencyKey)).toEqual(['s1', 's1']);
      expect(after).toMatchObject({ records: {}, idempotency: {}, requests: [], requestsByStatus: {}, appliedKeys: 0 });
      expect(after.customers.map((customer) => customer.id)).toEqual(['cust-42']);
    });
  });
});
