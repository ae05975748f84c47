import { afterEach, describe, expect, it, vi } from 'vitest';
import { CustomerLookup } from '#lib/crm';
import type { BreakerState } from '#lib/crm/breaker.ts';
import { BoundedTtlCache, type CustomerLookupOptions } from '#lib/crm/lookup.ts';
import { countingTokens } from '#test/unit/lib/genesys/support.ts';
import { startScriptedServer, unreachableUrl, type ScriptedServer, type Step } from '#test/support/scripted-server.ts';

const customer = { id: 'cust-1', firstName: 'Jane', lastName: 'Doe', loyaltyTier: 'gold', accountStatus: 'active', loyaltyPoints: 120 };

const servers: ScriptedServer[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function lookupAgainst(script: Step[], options: Partial<CustomerLookupOptions> = {}) {
  const server = await startScriptedServer(script);
  servers.push(server);
  const tokens = countingTokens();
  const lookup = new CustomerLookup({ baseUrl: server.url, tokens, ...options });
  return { server, lookup, tokens };
}

describe('CustomerLookup answers', () => {
  it.each<[string, Step, unknown]>([
    ['found: the first customer', { status: 200, body: [customer, { ...customer, id: 'cust-2' }] }, { outcome: 'found', customer, fromCache: false }],
    ['not found on 404', { status: 404, body: { message: 'none' } }, { outcome: 'not_found', fromCache: false }],
    ['not found on an empty list', { status: 200, body: [] }, { outcome: 'not_found', fromCache: false }],
    ['a partial record keeps what it has', { status: 200, body: [{ id: 'cust-9', loyaltyTier: 'platinum', firstName: '', lastName: '   ' }] }, { outcome: 'found', customer: { id: 'cust-9', loyaltyTier: 'platinum' }, fromCache: false }],
    ['records without an id are skipped', { status: 200, body: [{ firstName: 'Nobody' }] }, { outcome: 'not_found', fromCache: false }],
    ['unavailable on 500', { status: 500 }, { outcome: 'unavailable', reason: 'upstream_error', detail: 'the CRM answered 500' }],
    ['unavailable on 429, rate limited', { status: 429, headers: { 'Retry-After': '1' } }, { outcome: 'unavailable', reason: 'rate_limited', detail: 'the CRM answered 429' }],
    ['unavailable on 403, lost permission', { status: 403 }, { outcome: 'unavailable', reason: 'permission', detail: 'the CRM answered 403' }],
    ['unavailable when the answer is not a list', { status: 200, body: { id: 'cust-1' } }, { outcome: 'unavailable', reason: 'invalid_response', detail: expect.any(String) }],
  ])('%s', async (_case, step, expected) => {
    // Prepare
    const { lookup } = await lookupAgainst([step]);

    // Act
    const result = await lookup.lookup({ email: 'jane@example.com' });

    // Assess
    expect(result).toEqual(expected);
  });

  it('asks by email (normalised) and phone, with the CRM bearer token', async () => {
    // Prepare
    const { lookup, server } = await lookupAgainst([{ status: 200, body: [customer] }]);

    // Act
    await lookup.lookup({ email: ' Jane@Example.COM ', phone: '+1 555 123 4567' });

    // Assess
    const url = new URL(server.requests[0]?.url ?? '', 'http://x');
    expect(url.pathname).toBe('/customers');
    expect(url.searchParams.get('email')).toBe('jane@example.com');
    expect(url.searchParams.get('phone')).toBe('+1 555 123 4567');
    expect(server.requests[0]?.headers['authorization']).toBe('Bearer token-1');
  });

  it('gives up at the budget and answers timeout', async () => {
    // Prepare
    const { lookup } = await lookupAgainst([{ hang: true }], { budgetMs: 100 });

    // Act
    const result = await lookup.lookup({ email: 'slow@example.com' });

    // Assess
    expect(result).toEqual({ outcome: 'unavailable', reason: 'timeout', detail: 'the CRM did not answer within 100 ms' });
  });

  it('lets the caller shorten the budget, never lengthen it', async () => {
    // Prepare
    const { lookup } = await lookupAgainst([{ hang: true }, { hang: true }], { budgetMs: 150 });

    // Act
    const shorter = await lookup.lookup({ email: 'a@example.com' }, { budgetMs: 50 });
    const longer = await lookup.lookup({ email: 'b@example.com' }, { budgetMs: 60_000 });

    // Assess
    expect(shorter).toMatchObject({ reason: 'timeout', detail: 'the CRM did not answer within 50 ms' });
    expect(longer).toMatchObject({ reason: 'timeout', detail: 'the CRM did not answer within 150 ms' });
  });

  it('answers network when nothing listens', async () => {
    // Prepare
    const lookup = new CustomerLookup({ baseUrl: await unreachableUrl(), tokens: countingTokens() });

    // Act
    const result = await lookup.lookup({ phone: '555-123-4567' });

    // Assess
    expect(result).toMatchObject({ outcome: 'unavailable', reason: 'network' });
  });

  it('asks nothing without an email or phone', async () => {
    // Prepare
    const { lookup, server } = await lookupAgainst([]);

    // Act
    const result = await lookup.lookup({ email: '  ' });

    // Assess
    expect(result).toEqual({ outcome: 'not_found', fromCache: false });
    expect(server.requests).toHaveLength(0);
  });
});

describe('CustomerLookup cache', () => {
  it.each<[string, Step]>([
    ['a found customer', { status: 200, body: [customer] }],
    ['a miss', { status: 404 }],
  ])('reuses %s for the same person, whatever the spelling', async (_case, step) => {
    // Prepare
    const { lookup, server } = await lookupAgainst([step]);

    // Act
    const first = await lookup.lookup({ email: 'jane@example.com' });
    const second = await lookup.lookup({ email: 'JANE@example.com ' });

    // Assess
    expect(server.requests).toHaveLength(1);
    expect(second).toEqual({ ...first, fromCache: true });
  });

  it('never caches a failure', async () => {
    // Prepare
    const { lookup, server } = await lookupAgainst([{ status: 503 }, { status: 200, body: [customer] }]);

    // Act
    await lookup.lookup({ email: 'jane@example.com' });
    const second = await lookup.lookup({ email: 'jane@example.com' });

    // Assess
    expect(server.requests).toHaveLength(2);
    expect(second).toMatchObject({ outcome: 'found', fromCache: false });
  });

  it('asks again once the entry expired', async () => {
    // Prepare
    let now = 0;
    const { lookup, server } = await lookupAgainst([{ status: 200, body: [customer] }, { status: 200, body: [customer] }], { cacheTtlMs: 1_000, now: () => now });

    // Act
    await lookup.lookup({ email: 'jane@example.com' });
    now = 999;
    await lookup.lookup({ email: 'jane@example.com' });
    now = 1_000;
    const third = await lookup.lookup({ email: 'jane@example.com' });

    // Assess
    expect(server.requests).toHaveLength(2);
    expect(third.outcome === 'found' && third.fromCache).toBe(false);
  });
});

describe('BoundedTtlCache', () => {
  it('evicts the least recently used entry beyond its bound', () => {
    // Prepare
    const cache = new BoundedTtlCache<number>(2, 1_000, () => 0);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.get('a');

    // Act
    cache.set('c', 3);

    // Assess
    expect([cache.get('a'), cache.get('b'), cache.get('c'), cache.size]).toEqual([1, undefined, 3, 2]);
  });

  it('holds nothing with a zero bound', () => {
    const cache = new BoundedTtlCache<number>(0, 1_000);
    cache.set('a', 1);
    expect(cache.get('a')).toBeUndefined();
  });
});

describe('CustomerLookup circuit breaker', () => {
  it('opens after consecutive failures and then answers at once without asking the CRM', async () => {
    // Prepare
    const states: BreakerState[] = [];
    const { lookup, server } = await lookupAgainst([{ status: 500 }, { status: 500 }, { status: 500 }], {
      failureThreshold: 3,
      onBreakerStateChange: (state) => states.push(state),
    });
    for (const n of [1, 2, 3]) await lookup.lookup({ email: `fail${n}@example.com` });

    // Act
    const result = await lookup.lookup({ email: 'next@example.com' });

    // Assess
    expect(result).toEqual({ outcome: 'unavailable', reason: 'circuit_open', detail: expect.any(String) });
    expect(server.requests).toHaveLength(3);
    expect(lookup.breakerState()).toBe('open');
    expect(states).toEqual(['open']);
  });

  it('counts timeouts as failures', async () => {
    // Prepare
    const { lookup } = await lookupAgainst([{ hang: true }, { hang: true }], { failureThreshold: 2, budgetMs: 50 });

    // Act
    await lookup.lookup({ email: 'a@example.com' });
    await lookup.lookup({ email: 'b@example.com' });

    // Assess
    expect(lookup.breakerState()).toBe('open');
  });

  it('does not count a miss as a failure', async () => {
    // Prepare
    const { lookup } = await lookupAgainst([{ status: 404 }, { status: 404 }, { status: 404 }], { failureThreshold: 2 });

    // Act
    for (const n of [1, 2, 3]) await lookup.lookup({ email: `nobody${n}@example.com` });

    // Assess
    expect(lookup.breakerState()).toBe('closed');
  });

  it('tries the CRM again after the open period and closes on success', async () => {
    // Prepare
    vi.useFakeTimers({ toFake: ['Date'] });
    const states: BreakerState[] = [];
    const { lookup, server } = await lookupAgainst([{ status: 500 }, { status: 200, body: [customer] }], {
      failureThreshold: 1,
      halfOpenAfterMs: 30_000,
      onBreakerStateChange: (state) => states.push(state),
    });
    await lookup.lookup({ email: 'a@example.com' });
    const whileOpen = await lookup.lookup({ email: 'b@example.com' });

    // Act
    vi.setSystemTime(Date.now() + 30_001);
    const afterwards = await lookup.lookup({ email: 'c@example.com' });

    // Assess
    expect(whileOpen).toMatchObject({ reason: 'circuit_open' });
    expect(afterwards).toMatchObject({ outcome: 'found' });
    expect(server.requests).toHaveLength(2);
    expect(states).toEqual(['open', 'half-open', 'closed']);
  });
});
