/**
 * The one CRM circuit breaker, as the worker and the pre-chat lookup use it: what counts as
 * a failure for each, one spelling of its states, and one set of metrics for its changes.
 */
import { BrokenCircuitError, handleAll } from 'cockatiel';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { breakerState, countBreakerChange, createCrmBreaker, type BatchUpsertOutcome } from '#lib/crm';
import type { BreakerState } from '#lib/crm/breaker.ts';
import { MetricNames, metrics } from '#lib/observability';
import { resetSharedSyncForTests, sharedCrmBreaker } from '#lib/sync/shared.ts';

const down: BatchUpsertOutcome = { kind: 'transient', status: 503, reason: 'the CRM answered 503' };
const inFlight: BatchUpsertOutcome = { kind: 'transient', status: 409, reason: 'the CRM answered 409' };
const ok: BatchUpsertOutcome = { kind: 'ok', status: 200, results: [], replayed: false };

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  resetSharedSyncForTests();
});

describe('createCrmBreaker', () => {
  it('by default (the worker) opens on outcomes that say the CRM is unwell, never on 409, and refuses while open', async () => {
    // Prepare
    const states: BreakerState[] = [];
    const breaker = createCrmBreaker({ halfOpenAfterMs: 30_000, threshold: 3, onStateChange: (state) => states.push(state) });

    // Act
    for (let n = 0; n < 5; n += 1) await breaker.execute(() => inFlight);
    const afterInFlight = breakerState(breaker);
    for (let n = 0; n < 3; n += 1) await breaker.execute(() => down);
    const refused = await breaker.execute(() => ok).catch((error: unknown) => error);

    // Assess
    expect(afterInFlight).toBe('closed');
    expect(breakerState(breaker)).toBe('open');
    expect(refused).toBeInstanceOf(BrokenCircuitError);
    expect(states).toEqual(['open']);
  });

  it('with `handleAll` (the lookup) opens on thrown errors, then half-opens and closes with the same spelling', async () => {
    // Prepare
    vi.useFakeTimers({ toFake: ['Date'] });
    const states: BreakerState[] = [];
    const breaker = createCrmBreaker({ failures: handleAll, halfOpenAfterMs: 10_000, threshold: 2, onStateChange: (state) => states.push(state) });
    const fail = (): Promise<never> => Promise.reject(new Error('the CRM answered 500'));

    // Act
    for (let n = 0; n < 2; n += 1) await breaker.execute(fail).catch(() => undefined);
    vi.setSystemTime(Date.now() + 10_001);
    const probe = await breaker.execute(async () => 'found');

    // Assess
    expect(probe).toBe('found');
    expect(states).toEqual(['open', 'half-open', 'closed']);
    expect(breakerState(breaker)).toBe('closed');
  });
});

describe('breaker metrics', () => {
  it.each<[BreakerState, string | undefined]>([
    ['open', MetricNames.CrmBreakerOpened],
    ['half-open', MetricNames.CrmBreakerHalfOpened],
    ['closed', MetricNames.CrmBreakerClosed],
    ['isolated', undefined],
  ])('a change to %s counts %s', (state, expected) => {
    // Prepare
    const sink = { addMetric: vi.fn() };

    // Act
    countBreakerChange(state, sink);

    // Assess
    expect(sink.addMetric.mock.calls.map(([name]) => name)).toEqual(expected ? [expected] : []);
  });

  it("the worker's shared breaker counts its opening and recovery with the same metrics", async () => {
    // Prepare
    vi.useFakeTimers({ toFake: ['Date'] });
    const added = vi.spyOn(metrics, 'addMetric').mockImplementation(() => metrics);
    const breaker = sharedCrmBreaker(5_000);

    // Act
    for (let n = 0; n < 5; n += 1) await breaker.execute(() => down);
    vi.setSystemTime(Date.now() + 5_001);
    await breaker.execute(() => ok);

    // Assess
    expect(added.mock.calls.map(([name]) => name)).toEqual([MetricNames.CrmBreakerOpened, MetricNames.CrmBreakerHalfOpened, MetricNames.CrmBreakerClosed]);
  });
});
