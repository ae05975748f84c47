/**
 * The worker's request budget on each provider's real answers (docs/crm-budgets.md): the
 * adapters read their budget headers, the limiter spaces requests out to fit the window
 * that is left, and a daily quota near its end pauses the worker before the provider
 * refuses (no request refused, nothing dead-lettered, the messages held for the pause).
 * Time is the sandboxes' and the limiter's one fake clock.
 */
import { describe, expect, it } from 'vitest';
import { DynamicsAdapter } from '#lib/crm/providers/dynamics.ts';
import { HubSpotAdapter } from '#lib/crm/providers/hubspot.ts';
import { ClientCredentialsTokenProvider, SecretTokenProvider, type CrmTokenSource } from '#lib/crm/providers/oauth.ts';
import { SalesforceAdapter } from '#lib/crm/providers/salesforce.ts';
import type { OutageSignal } from '#lib/sync/outage.ts';
import type { DeadLetter } from '#lib/sync/dead-letter.ts';
import { RequestRateLimiter } from '#lib/sync/rate-limit.ts';
import { processBatch, type SyncPorts } from '#lib/sync/processor.ts';
import { adapterUpsert } from '#lib/sync/crm-port.ts';
import { createCrmBreaker } from '#lib/crm';
import { startHubSpotSandbox, startSalesforceSandbox } from '#local/sandbox/crm-providers/index.ts';
import { SECRET_ID, clock, control, recordFactory, sandboxPerTest, secretCache } from '#test/unit/lib/crm/providers/support.ts';
import { job, jobRecord } from '#test/support/factories.ts';

const call = { timeoutMs: 2_000 };
/** The limiter's clock is the sandboxes' test clock: it moves only when the limiter waits. */
const limiterClock = { now: clock.now, sleep: async (ms: number) => clock.advance(ms) };

/** The processor's ports on a real adapter and limiter, recording pauses and dead letters. */
function workerPorts(upsert: SyncPorts['upsert'], limiter: RequestRateLimiter) {
  const pauses: OutageSignal[] = [];
  const letters: DeadLetter[] = [];
  const held: Array<{ ids: string[]; seconds: number }> = [];
  const ports: SyncPorts = {
    upsert,
    limiter,
    deadLetter: async (sent) => {
      letters.push(...sent);
      return new Set();
    },
    breaker: createCrmBreaker({ halfOpenAfterMs: 30_000 }),
    remainingMs: () => 60_000,
    sleep: limiterClock.sleep,
    now: clock.now,
    random: () => 0.5,
    pause: async (signal) => {
      pauses.push(signal);
      return clock.now() + signal.pauseMs;
    },
    holdBack: async (messages, seconds) => {
      held.push({ ids: messages.map((m) => m.messageId), seconds });
    },
  };
  return { ports, pauses, letters, held };
}

describe('HubSpot: the X-HubSpot-RateLimit-* headers', () => {
  const sandbox = sandboxPerTest((now) => startHubSpotSandbox({ accessToken: 'pat-1', clock: now }), () => ({ accessToken: 'pat-1' }));
  const adapterFor = (): HubSpotAdapter =>
    new HubSpotAdapter({ baseUrl: sandbox().url, idProperty: 'guest_sync_external_id', tokens: new SecretTokenProvider({ secrets: secretCache(), secretId: SECRET_ID, key: 'accessToken' }), now: clock.now });

  it('spaces the worker out when another app of the account has used most of the ten-second window, so HubSpot never refuses', async () => {
    // Prepare: another integration of the same account sends 80 requests.
    const other = adapterFor();
    for (let i = 0; i < 80; i += 1) await other.upsert([recordFactory(`other-${i}`)], call);
    const adapter = adapterFor();
    const limiter = new RequestRateLimiter(5, limiterClock);
    const upsert = adapterUpsert(adapter, limiter);
    const started = clock.now();

    // Act: the worker sends as fast as its limiter lets it for 20 s.
    const sentAt: number[] = [];
    while (clock.now() < started + 20_000) {
      await limiter.acquire();
      sentAt.push(clock.now() - started);
      await upsert([recordFactory(`w-${sentAt.length}`)], `key-${sentAt.length}`, 2_000);
    }

    // Assess
    const statuses = sandbox().state().requestsByStatus;
    expect(statuses['429']).toBeUndefined();
    // While the other app's 80 are in the window, the worker keeps within the 20 left (at its own pace it would send 48).
    expect(sentAt.filter((t) => t < 10_000).length).toBeLessThanOrEqual(20);
    // Once the other app's requests have left the window, the worker is back at its share: 95 of 100 over 2 containers.
    expect(sentAt.filter((t) => t >= 11_000 && t < 20_000).length).toBeGreaterThanOrEqual(40);
    expect(limiter.perSecond).toBeCloseTo(4.75);
  });

  it('uses the professional tier HubSpot reports (190 per 10 s) when CRM_MAX_REQUESTS_PER_SECOND is not set', async () => {
    // Prepare
    await control(sandbox().url, '/__sandbox/config', { tier: 'professional' });
    const adapter = adapterFor();
    const limiter = new RequestRateLimiter(5, limiterClock);

    // Act
    await limiter.acquire();
    await adapterUpsert(adapter, limiter)([recordFactory('a')], 'key-a', 2_000);

    // Assess
    expect(limiter.perSecond).toBeCloseTo((190 * 0.95) / 2 / 10);
  });

  it('pauses the worker until midnight once the daily quota is down to its reserve, before HubSpot refuses; nothing dead-lettered, messages held', async () => {
    // Prepare: 25 requests a day; the reserve keeps 20 of them.
    await control(sandbox().url, '/__sandbox/config', { dailyLimit: 25 });
    const limiter = new RequestRateLimiter(5, limiterClock);
    const { ports, pauses, letters, held } = workerPorts(adapterUpsert(adapterFor(), limiter), limiter);
    const messages = Array.from({ length: 10 }, (_, i) => jobRecord(job({ externalId: `guest-${i}` }), `m-${i}`));

    // Act
    const report = await processBatch(messages, { batchSize: 1, maxReceiveCount: 5, chunkConcurrency: 1 }, ports);

    // Assess
    expect(sandbox().state().requestsByStatus).toEqual({ '200': 5 });
    expect(pauses).toEqual([{ kind: 'limit', reason: expect.stringContaining('20 of 25 left'), pauseMs: Date.parse('2025-03-02T00:00:00.000Z') - clock.now() }]);
    expect(letters).toEqual([]);
    expect(report.summary.upserted.created).toBe(5);
    expect(report.batchItemFailures).toHaveLength(5);
    expect(held).toEqual([{ ids: report.batchItemFailures.map((f) => f.itemIdentifier), seconds: expect.any(Number) }]);
  });
});

describe('Salesforce: Sforce-Limit-Info', () => {
  const sandbox = sandboxPerTest(
    (now) => startSalesforceSandbox({ clientId: 'sf-client', clientSecret: 'sf-secret-1', clock: now }),
    (started) => ({ clientId: 'sf-client', clientSecret: 'sf-secret-1', loginUrl: started.url }),
  );

  it('stops before REQUEST_LIMIT_EXCEEDED and reads the rolling 24-hour count again a minute later', async () => {
    // Prepare: 30 requests per 24 hours; the reserve keeps 20.
    await control(sandbox().url, '/__sandbox/config', { dailyApiLimit: 30 });
    const adapter = new SalesforceAdapter({
      externalIdField: 'GS_External_Id__c',
      tokens: new ClientCredentialsTokenProvider({ secrets: secretCache(), secretId: SECRET_ID, flavour: 'salesforce', now: clock.now }),
      now: clock.now,
    });
    const limiter = new RequestRateLimiter(10, limiterClock);
    const upsert = adapterUpsert(adapter, limiter);

    // Act
    let sent = 0;
    while (!limiter.dailyQuotaHold(60_000) && sent < 30) {
      await limiter.acquire();
      await upsert([recordFactory(`s-${sent}`)], `key-${sent}`, 2_000);
      sent += 1;
    }
    const hold = limiter.dailyQuotaHold(60_000);
    clock.advance(60_000);

    // Assess
    expect(sent).toBe(10);
    expect(hold).toMatchObject({ kind: 'limit', pauseMs: 60_000 });
    expect(sandbox().state().requestsByStatus).toEqual({ '200': 11 });
    expect(limiter.dailyQuotaHold(60_000)).toBeUndefined();
  });
});

describe('Dynamics 365: x-ms-ratelimit-* headers', () => {
  /** A Dataverse that answers every UpsertMultiple with 204 and the given service protection headers. */
  const dataverse = (headers: Record<string, string>): typeof fetch => async () => new Response(null, { status: 204, headers });
  const tokens: CrmTokenSource = { getToken: async () => 'token', invalidate: () => undefined, instanceUrl: () => undefined };

  it.each<[string, Record<string, string>, number]>([
    ['requests left in the 5-minute window', { 'x-ms-ratelimit-burst-remaining-xrm-requests': '120', 'x-ms-ratelimit-time-remaining-xrm-requests': '1200000' }, 120],
    ['execution time left, counted in requests (60 s of the 20 minutes: 300 of 6,000)', { 'x-ms-ratelimit-burst-remaining-xrm-requests': '5000', 'x-ms-ratelimit-time-remaining-xrm-requests': '60000' }, 300],
  ])('slows the worker to what is left: %s', async (_case, headers, remaining) => {
    // Prepare
    const adapter = new DynamicsAdapter({ baseUrl: 'http://127.0.0.1:9', alternateKey: 'gs_externalid', tokens, fetch: dataverse(headers), now: clock.now });
    const limiter = new RequestRateLimiter(10, limiterClock);
    await limiter.acquire();

    // Act
    await adapterUpsert(adapter, limiter)([recordFactory('a')], 'key-a', 2_000);

    // Assess: one own request plus half of what is left, over 300 s.
    expect(adapter.budget()).toMatchObject({ windowLimit: 6_000, windowRemaining: remaining, windowMs: 300_000 });
    expect(limiter.perSecond).toBeCloseTo((1 + remaining / 2) / 300);
  });

  it('keeps the default pace when Dataverse sends no service protection headers', async () => {
    // Prepare
    const adapter = new DynamicsAdapter({ baseUrl: 'http://127.0.0.1:9', alternateKey: 'gs_externalid', tokens, fetch: dataverse({}), now: clock.now });
    const limiter = new RequestRateLimiter(10, limiterClock);

    // Act
    await adapterUpsert(adapter, limiter)([recordFactory('a')], 'key-a', 2_000);

    // Assess
    expect(adapter.budget()).toBeUndefined();
    expect(limiter.perSecond).toBe(10);
  });
  it('after a 429 waits its Retry-After, then keeps its pace: the refusal says when to retry, not that the 5-minute window is spent', async () => {
    // Prepare: Dataverse refuses once (service protection, Retry-After 2 s), then takes work again
    let calls = 0;
    const refusingOnce: typeof fetch = async () => {
      calls += 1;
      if (calls === 1) {
        return new Response(JSON.stringify({ error: { code: '0x80072322', message: 'Number of requests exceeded the limit of 6000 over time window of 300 seconds.' } }), {
          status: 429,
          headers: { 'content-type': 'application/json', 'retry-after': '2' },
        });
      }
      return new Response(null, { status: 204 });
    };
    const adapter = new DynamicsAdapter({ baseUrl: 'http://127.0.0.1:9', alternateKey: 'gs_externalid', tokens, fetch: refusingOnce, now: clock.now });
    const limiter = new RequestRateLimiter(10, limiterClock);

    // Act
    const refused = await adapterUpsert(adapter, limiter)([recordFactory('a')], 'key-a', 2_000);

    // Assess: the refusal is a rate limit with its Retry-After, and the pace is unchanged
    expect(refused).toMatchObject({ status: 429, retryAfterMs: 2_000 });
    expect(limiter.perSecond).toBe(10);
  });
});
