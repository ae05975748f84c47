/**
 * The HubSpot sandbox reproduces HubSpot's documented behaviour. Sources: "Create or update a
 * batch of contacts by unique property values" (CRM v3 contacts batch upsert), "API usage
 * guidelines and limits" (rate limits, headers, 429 policy names), "CRM search" (search limit).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCrmProviderSandbox, type HubSpotSandbox } from '#local/sandbox/crm-providers/index.ts';
import { manualClock, send } from './support.ts';

const AUTH = { authorization: 'Bearer pat-1' };
let sandbox: HubSpotSandbox;
let clock: ReturnType<typeof manualClock>;
const upsertUrl = (): string => `${sandbox.url}/crm/v3/objects/contacts/batch/upsert`;
const input = (id: string, trace?: string, properties: Record<string, unknown> = { guest_sync_attr_tier: 'gold' }) => ({
  id,
  idProperty: 'guest_sync_external_id',
  properties,
  ...(trace === undefined ? {} : { objectWriteTraceId: trace }),
});

beforeEach(async () => {
  clock = manualClock();
  sandbox = await startCrmProviderSandbox('hubspot', { accessToken: 'pat-1', clock: clock.now, searchLagMs: 2_000 });
});
afterEach(async () => {
  await sandbox.close();
});

describe('HubSpot sandbox: batch upsert as documented', () => {
  it('takes 100 inputs and refuses 101 with a 400', async () => {
    // Act
    const hundred = await send(upsertUrl(), 'POST', { inputs: Array.from({ length: 100 }, (_, i) => input(`s${i}`, String(i))) }, AUTH);
    const over = await send(upsertUrl(), 'POST', { inputs: Array.from({ length: 101 }, (_, i) => input(`t${i}`, String(i))) }, AUTH);

    // Assess
    expect(hundred.status).toBe(200);
    expect(hundred.body.results).toHaveLength(100);
    expect(over).toMatchObject({ status: 400, body: { status: 'error', category: 'VALIDATION_ERROR' } });
    expect(Object.keys(sandbox.state().records)).toHaveLength(100);
  });

  it('rejects the whole call when one id appears twice', async () => {
    // Act
    const answer = await send(upsertUrl(), 'POST', { inputs: [input('a', '0'), input('a', '1'), input('b', '2')] }, AUTH);

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body.message).toContain('Duplicate IDs');
    expect(sandbox.state().records).toEqual({});
  });

  it('without objectWriteTraceId one invalid input rejects the batch; with it a 207 lists the error', async () => {
    // Prepare
    const bad = { 'Not A Property': 'x' };

    // Act
    const untraced = await send(upsertUrl(), 'POST', { inputs: [input('a'), input('b', undefined, bad)] }, AUTH);
    const traced = await send(upsertUrl(), 'POST', { inputs: [input('a', 't-a'), input('b', 't-b', bad)] }, AUTH);

    // Assess
    expect(untraced.status).toBe(400);
    expect(traced.status).toBe(207);
    expect(traced.body.errors).toEqual([expect.objectContaining({ context: { objectWriteTraceId: ['t-b'] } })]);
    expect(traced.body.results).toEqual([expect.objectContaining({ objectWriteTraceId: 't-a', new: true })]);
    expect(Object.keys(sandbox.state().records)).toEqual(['a']);
  });

  it('answers 200 and writes nothing for a body without inputs', async () => {
    // Act
    const answer = await send(upsertUrl(), 'POST', { records: [input('a', '0')] }, AUTH);

    // Assess
    expect(answer).toMatchObject({ status: 200, body: { status: 'COMPLETE', results: [] } });
    expect(sandbox.state().records).toEqual({});
  });

  it('merges properties: a property not sent keeps its value, and every write is counted', async () => {
    // Act
    await send(upsertUrl(), 'POST', { inputs: [input('a', '0', { guest_sync_attr_tier: 'gold', guest_sync_consent_marketing: 'true' })] }, AUTH);
    await send(upsertUrl(), 'POST', { inputs: [input('a', '0', { guest_sync_attr_lang: 'en' })] }, AUTH);

    // Assess
    expect(sandbox.state().records['a']).toMatchObject({
      writes: 2,
      fields: { guest_sync_attr_tier: 'gold', guest_sync_consent_marketing: 'true', guest_sync_attr_lang: 'en' },
    });
  });
});

describe('HubSpot sandbox: limits and auth as documented', () => {
  it('allows 100 requests per rolling 10 s on the starter tier, with the rate limit headers and a TEN_SECONDLY_ROLLING 429', async () => {
    // Prepare
    for (let i = 0; i < 99; i += 1) await send(upsertUrl(), 'POST', { inputs: [input(`s${i}`, '0')] }, AUTH);
    const last = await send(upsertUrl(), 'POST', { inputs: [input('s99', '0')] }, AUTH);

    // Act
    const refused = await send(upsertUrl(), 'POST', { inputs: [input('s100', '0')] }, AUTH);
    clock.advance(10_001);
    const afterWindow = await send(upsertUrl(), 'POST', { inputs: [input('s100', '0')] }, AUTH);

    // Assess
    expect(last.headers.get('x-hubspot-ratelimit-max')).toBe('100');
    expect(last.headers.get('x-hubspot-ratelimit-remaining')).toBe('0');
    expect(last.headers.get('x-hubspot-ratelimit-interval-milliseconds')).toBe('10000');
    expect(last.headers.get('x-hubspot-ratelimit-daily-remaining')).toBe(String(250_000 - 100));
    expect(refused).toMatchObject({ status: 429, body: { errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING' } });
    expect(afterWindow.status).toBe(200);
  });

  it('allows 190 per 10 s on the professional tier', async () => {
    // Prepare
    await send(`${sandbox.url}/__sandbox/config`, 'POST', { tier: 'professional' });

    // Act
    const answer = await send(upsertUrl(), 'POST', { inputs: [input('a', '0')] }, AUTH);

    // Assess
    expect(answer.headers.get('x-hubspot-ratelimit-max')).toBe('190');
  });

  it('answers a DAILY 429 when the daily quota is used, until midnight', async () => {
    // Prepare
    await send(`${sandbox.url}/__sandbox/config`, 'POST', { dailyLimit: 1 });
    await send(upsertUrl(), 'POST', { inputs: [input('a', '0')] }, AUTH);

    // Act
    const refused = await send(upsertUrl(), 'POST', { inputs: [input('b', '0')] }, AUTH);
    clock.advance(12 * 3_600_000);
    const nextDay = await send(upsertUrl(), 'POST', { inputs: [input('b', '0')] }, AUTH);

    // Assess
    expect(refused).toMatchObject({ status: 429, body: { policyName: 'DAILY', message: 'You have reached your daily limit.' } });
    expect(nextDay.status).toBe(200);
  });

  it('limits search to 5 requests per second with its own 429, and finds new records only after a lag', async () => {
    // Prepare
    await send(upsertUrl(), 'POST', { inputs: [input('a', '0', { email: 'ada@example.com' })] }, AUTH);
    const search = () => send(`${sandbox.url}/crm/v3/objects/contacts/search`, 'POST', { filterGroups: [{ filters: [{ propertyName: 'email', operator: 'EQ', value: 'ada@example.com' }] }] }, AUTH);

    // Act
    const early = await search();
    const burst = [];
    for (let i = 0; i < 5; i += 1) burst.push((await search()).status);
    clock.advance(2_000);
    const late = await search();

    // Assess
    expect(early.body.total).toBe(0);
    expect(burst).toEqual([200, 200, 200, 200, 429]);
    expect(late.body.total).toBe(1);
  });

  it('answers 401 EXPIRED_AUTHENTICATION for a revoked token and 403 MISSING_SCOPES without the write scope', async () => {
    // Prepare
    sandbox.rotateToken('pat-2');

    // Act
    const expired = await send(upsertUrl(), 'POST', { inputs: [input('a', '0')] }, AUTH);
    sandbox.setScopes(['crm.objects.contacts.read']);
    const scoped = await send(upsertUrl(), 'POST', { inputs: [input('a', '0')] }, { authorization: 'Bearer pat-2' });

    // Assess
    expect(expired).toMatchObject({ status: 401, body: { category: 'EXPIRED_AUTHENTICATION' } });
    expect(scoped).toMatchObject({ status: 403, body: { category: 'MISSING_SCOPES' } });
  });
});
