import { beforeEach, describe, expect, it } from 'vitest';
import { HubSpotAdapter } from '#lib/crm/providers/hubspot.ts';
import { SecretTokenProvider } from '#lib/crm/providers/oauth.ts';
import { HUBSPOT_SCOPES, startHubSpotSandbox } from '#local/sandbox/crm-providers/index.ts';
import { SECRET_ID, chunkOf, clock, control, expectResultsInOrder, laterRecordFactory, lookupStories, recordFactory, readStories, sandboxPerTest, secretAnswers, secretCache, secretReads } from './support.ts';

const sandbox = sandboxPerTest((now) => startHubSpotSandbox({ accessToken: 'pat-1', clock: now, searchLagMs: 0 }), () => ({ accessToken: 'pat-1' }));
const adapterFor = (): HubSpotAdapter =>
  new HubSpotAdapter({
    baseUrl: sandbox().url,
    idProperty: 'guest_sync_external_id',
    tokens: new SecretTokenProvider({ secrets: secretCache(), secretId: SECRET_ID, key: 'accessToken' }),
    now: clock.now,
  });
const call = { timeoutMs: 2_000 };

describe('HubSpotAdapter upsert', () => {
  it('writes a chunk at the batch maximum (100) and answers each input in request order', async () => {
    // Prepare
    const chunk = chunkOf(100);

    // Act
    const outcome = await adapterFor().upsert(chunk, call);

    // Assess
    expectResultsInOrder(outcome, chunk, 'created');
    const records = sandbox().state().records;
    expect(Object.keys(records)).toHaveLength(100);
    expect(records['session-7']?.fields).toMatchObject({
      guest_sync_external_id: 'session-7',
      guest_sync_email_hash: 'a'.repeat(64),
      guest_sync_consent_marketing: 'true',
      guest_sync_attr_tier: 'gold',
      guest_sync_source_updated_at: '2025-03-01T10:00:00.000Z',
    });
    expect(records['session-7']?.writes).toBe(1);
  });

  it('refuses a chunk over the maximum (101) without sending it', async () => {
    // Act
    const outcome = await adapterFor().upsert(chunkOf(101), call);

    // Assess
    expect(outcome).toMatchObject({ kind: 'failed', failure: { kind: 'rejected', status: 400 } });
    expect(sandbox().state().requests).toHaveLength(0);
  });

  it('maps a per-record error of a 207 to that record, permanent, and writes the others', async () => {
    // Prepare
    await control(sandbox().url, '/__sandbox/record-failures', { rules: [{ externalId: 'b', code: 'INVALID_OPTION', message: 'tier is not an option' }] });

    // Act
    const outcome = await adapterFor().upsert([recordFactory('a'), recordFactory('b'), recordFactory('c')], call);

    // Assess
    expect(outcome).toEqual({
      kind: 'ok',
      status: 207,
      results: [
        { externalId: 'a', status: 'created' },
        { externalId: 'b', status: 'failed', error: { code: 'INVALID_OPTION', message: 'tier is not an option', classification: 'permanent' } },
        { externalId: 'c', status: 'created' },
      ],
    });
    expect(Object.keys(sandbox().state().records).sort()).toEqual(['a', 'c']);
  });

  it('never counts a 2xx that wrote nothing as done', async () => {
    // Prepare: HubSpot answers 200 with no results to a body it could not read as inputs.
    sandbox().faults.add([{ operation: 'batchUpsertContacts', status: 200, body: { status: 'COMPLETE', results: [] }, times: 1 }]);

    // Act
    const outcome = await adapterFor().upsert([recordFactory('a')], call);

    // Assess
    expect(outcome).toMatchObject({ kind: 'failed', failure: { kind: 'transient', status: 200 } });
  });

  it('keeps properties a later job does not carry (consent, hashes, other attributes)', async () => {
    // Prepare
    const adapter = adapterFor();
    await adapter.upsert([recordFactory('s1')], call);

    // Act
    const outcome = await adapter.upsert([laterRecordFactory('s1')], call);

    // Assess
    expect(outcome).toMatchObject({ kind: 'ok', results: [{ externalId: 's1', status: 'updated' }] });
    const stored = sandbox().state().records['s1'];
    expect(stored?.fields).toMatchObject({
      guest_sync_email_hash: 'a'.repeat(64),
      guest_sync_consent_marketing: 'true',
      guest_sync_attr_tier: 'gold',
      guest_sync_attr_lang: 'en',
      guest_sync_source_updated_at: '2025-03-01T11:00:00.000Z',
    });
    expect(stored?.writes).toBe(2);
  });
});

describe('HubSpotAdapter limits and credentials', () => {
  it('classifies a full ten-second window as rate limited (slow down), and reads the budget headers', async () => {
    // Prepare: the starter tier's 100 requests in one 10-second window.
    const adapter = adapterFor();
    for (let i = 0; i < 100; i += 1) await adapter.upsert([recordFactory(`w${i}`)], call);

    // Act
    const outcome = await adapter.upsert([recordFactory('one-too-many')], call);
    clock.advance(10_001);
    const later = await adapter.upsert([recordFactory('after-the-window')], call);

    // Assess
    expect(outcome).toMatchObject({ kind: 'failed', failure: { kind: 'rate_limited', status: 429, retryAfterMs: 10_000 } });
    expect(later.kind).toBe('ok');
    expect(adapter.budget()).toMatchObject({ windowLimit: 100, windowRemaining: 99, windowMs: 10_000, dailyLimit: 250_000, dailyRemaining: 250_000 - 101 });
  });

  it('classifies the daily limit as a quota that lasts until midnight', async () => {
    // Prepare
    await control(sandbox().url, '/__sandbox/config', { dailyLimit: 2 });
    const adapter = adapterFor();
    await adapter.upsert([recordFactory('a')], call);
    await adapter.upsert([recordFactory('b')], call);

    // Act
    const outcome = await adapter.upsert([recordFactory('c')], call);

    // Assess
    expect(outcome).toMatchObject({
      kind: 'failed',
      failure: { kind: 'quota_exhausted', status: 429, resetAt: Date.parse('2025-03-02T00:00:00.000Z') },
    });
  });

  it('re-reads the secret once when the token is refused and carries on with the rotated one', async () => {
    // Prepare
    secretAnswers({ accessToken: 'pat-1' }, { accessToken: 'pat-2' });
    const adapter = adapterFor();
    await adapter.upsert([recordFactory('a')], call);
    sandbox().rotateToken('pat-2');

    // Act
    const outcome = await adapter.upsert([recordFactory('b')], call);

    // Assess
    expect(outcome).toMatchObject({ kind: 'ok', results: [{ externalId: 'b', status: 'created' }] });
    expect(secretReads()).toBe(2);
    expect(sandbox().state().requestsByStatus).toMatchObject({ '200': 2, '401': 1 });
  });

  it('reports refused credentials when the re-read secret is refused too', async () => {
    // Prepare
    sandbox().expireToken();

    // Act
    const outcome = await adapterFor().upsert([recordFactory('a')], call);

    // Assess
    expect(outcome).toMatchObject({ kind: 'failed', failure: { kind: 'credentials', status: 401 } });
  });

  it('classifies a missing scope (403) as lost permission, not transient', async () => {
    // Prepare
    sandbox().setScopes([HUBSPOT_SCOPES.read]);

    // Act
    const outcome = await adapterFor().upsert([recordFactory('a')], call);

    // Assess
    expect(outcome).toMatchObject({ kind: 'failed', failure: { kind: 'permission', status: 403 } });
  });
});

describe('HubSpotAdapter lookup', () => {
  beforeEach(async () => {
    await control(sandbox().url, '/__sandbox/customers', {
      customers: [{ email: 'ada@example.com', phone: '+1 555 010 2000', firstname: 'Ada', lastname: 'Lovelace', loyalty_tier: 'gold', account_status: 'active', loyalty_points: '1200' }],
    });
  });

  it('finds a contact by email and answers the contract customer shape', async () => {
    // Act
    const outcome = await adapterFor().lookupCustomer({ email: 'Ada@Example.com' }, call);

    // Assess
    expect(outcome).toEqual({
      kind: 'found',
      customer: { id: expect.any(String), firstName: 'Ada', lastName: 'Lovelace', loyaltyTier: 'gold', accountStatus: 'active', loyaltyPoints: 1200 },
    });
  });

  lookupStories((query) => adapterFor().lookupCustomer(query, call), { phoneStory: 'finds a contact by phone', phone: '+15550102000', firstName: 'Ada' });
});

describe('HubSpotAdapter budget', () => {
  it('keeps the budget of the last answer that had rate-limit headers when a search answers without them (as HubSpot search does)', async () => {
    // Prepare: an upsert answered with the headers, then a search answered without any.
    const answers = [
      new Response(JSON.stringify({ status: 'COMPLETE', results: [{ id: '1', objectWriteTraceId: '0', new: true }] }), {
        status: 200,
        headers: { 'content-type': 'application/json', 'x-hubspot-ratelimit-max': '100', 'x-hubspot-ratelimit-remaining': '42', 'x-hubspot-ratelimit-interval-milliseconds': '10000' },
      }),
      new Response(JSON.stringify({ total: 0, results: [] }), { status: 200, headers: { 'content-type': 'application/json' } }),
    ];
    const adapter = new HubSpotAdapter({
      baseUrl: 'http://127.0.0.1:9',
      idProperty: 'guest_sync_external_id',
      tokens: { getToken: async () => 'pat-1', invalidate: () => undefined, instanceUrl: () => undefined },
      fetch: async () => answers.shift() as Response,
      now: clock.now,
    });
    await adapter.upsert([recordFactory('a')], call);
    const observedAt = clock.now();
    clock.advance(5_000);

    // Act
    await adapter.lookupCustomer({ email: 'nobody@example.com' }, call);

    // Assess
    expect(adapter.budget()).toEqual({ windowLimit: 100, windowRemaining: 42, windowMs: 10_000, observedAt });
  });
});

describe('HubSpotAdapter read (before re-sending a record whose send went unanswered)', () => {
  readStories(() => ({
    read: (records) => adapterFor().readRecords(records, call),
    upsert: (records) => adapterFor().upsert(records, call),
    state: () => sandbox().state(),
    addFault: (rule) => sandbox().faults.add([rule as never]),
    operation: 'batchReadContacts',
    sentValues: (record) => adapterFor().properties(record),
  }));
});
