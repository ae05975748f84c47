import { describe, expect, it } from 'vitest';
import { windowBurst, RequestRateLimiter, WORKER_CONTAINERS, type LimiterClock } from '#lib/sync/rate-limit.ts';

/** A clock that only moves when the limiter sleeps, recording every slot taken. */
function fakeClock(): LimiterClock & { slots: number[]; time: number } {
  const clock = {
    time: 0,
    slots: [] as number[],
    now: () => clock.time,
    sleep: async (ms: number) => {
      clock.time += ms;
    },
  };
  return clock;
}

describe('RequestRateLimiter', () => {
  it.each([1, 5, 10, 40])('spaces %i requests per second evenly: never more than the rate in any one-second window', async (perSecond) => {
    // Prepare
    const clock = fakeClock();
    const limiter = new RequestRateLimiter(perSecond, clock);

    // Act
    for (let i = 0; i < perSecond * 3; i += 1) {
      await limiter.acquire();
      clock.slots.push(clock.time);
    }

    // Assess
    for (const start of clock.slots) {
      expect(clock.slots.filter((t) => t >= start && t < start + 1000).length).toBeLessThanOrEqual(perSecond);
    }
    expect(clock.slots.at(-1)).toBe(((perSecond * 3 - 1) * 1000) / perSecond);
  });

  it('lets the first request through at once', async () => {
    // Prepare
    const clock = fakeClock();
    clock.time = 5_000;
    const limiter = new RequestRateLimiter(10, clock);

    // Act
    await limiter.acquire();

    // Assess
    expect(clock.time).toBe(5_000);
  });

  it('holds every slot back while the CRM asked to pause (Retry-After)', async () => {
    // Prepare
    const clock = fakeClock();
    const limiter = new RequestRateLimiter(10, clock);
    await limiter.acquire();

    // Act
    limiter.pauseFor(2_000);
    await limiter.acquire();

    // Assess
    expect(clock.time).toBe(2_000);
  });

  it('refuses, taking nothing, when the next slot is past the caller\'s deadline', async () => {
    // Prepare
    const clock = fakeClock();
    const limiter = new RequestRateLimiter(10, clock);
    limiter.pauseFor(3_000);

    // Act
    const refused = await limiter.acquire(1_000);
    const granted = await limiter.acquire();

    // Assess
    expect(refused).toBe(false);
    expect(granted).toBe(true);
    expect(clock.time).toBe(3_000);
  });

  it.each([0, -1, Number.NaN])('rejects a rate of %s', (perSecond) => {
    expect(() => new RequestRateLimiter(perSecond)).toThrow(RangeError);
  });
});

/** Slots taken by `limiter` until the clock reaches `untilMs`, each recorded. */
async function slotsUntil(limiter: RequestRateLimiter, clock: ReturnType<typeof fakeClock>, untilMs: number): Promise<number[]> {
  const slots: number[] = [];
  while (clock.time < untilMs) {
    await limiter.acquire();
    slots.push(clock.time);
  }
  return slots;
}

const gaps = (slots: number[]): number[] => slots.slice(1).map((slot, i) => Math.round(slot - (slots[i] as number)));

describe('RequestRateLimiter on the provider budget', () => {
  it("takes its share of the provider's window: HubSpot's 100 per 10 s over 2 containers, 5 % kept free", async () => {
    // Prepare
    const clock = fakeClock();
    const limiter = new RequestRateLimiter(5, clock);
    await limiter.acquire();

    // Act
    limiter.observe({ windowLimit: 100, windowRemaining: 99, windowMs: 10_000, observedAt: 0 });
    const slots = await slotsUntil(limiter, clock, 30_000);

    // Assess
    expect(limiter.perSecond).toBeCloseTo(4.75);
    for (const start of slots) expect(slots.filter((t) => t >= start && t < start + 10_000).length).toBeLessThanOrEqual(48);
  });

  it.each<[string, number | undefined, number]>([
    ['uses a higher tier (190 per 10 s) when CRM_MAX_REQUESTS_PER_SECOND is left to its default', undefined, (190 * 0.95) / 2 / 10],
    ['never goes above CRM_MAX_REQUESTS_PER_SECOND set explicitly', 6, 6],
  ])('%s', async (_case, ceilingPerSecond, perSecond) => {
    // Prepare
    const clock = fakeClock();
    const limiter = new RequestRateLimiter(ceilingPerSecond ?? 5, clock, ceilingPerSecond === undefined ? {} : { ceilingPerSecond });

    // Act
    limiter.observe({ windowLimit: 190, windowRemaining: 189, windowMs: 10_000, observedAt: 0 });
    const slots = await slotsUntil(limiter, clock, 5_000);

    // Assess
    expect(limiter.perSecond).toBeCloseTo(perSecond);
    expect(new Set(gaps(slots))).toEqual(new Set([Math.round(1000 / perSecond)]));
  });

  it('slows down when the window has less left than its pace would spend before the window ends, and speeds up again after it', async () => {
    // Prepare: another app of the same account used 80 of the 100 requests; this container sent 1.
    const clock = fakeClock();
    const limiter = new RequestRateLimiter(5, clock);
    await limiter.acquire();
    limiter.observe({ windowLimit: 100, windowRemaining: 19, windowMs: 10_000, observedAt: 0 });

    // Act
    const slots = await slotsUntil(limiter, clock, 20_000);

    // Assess: within the first window at most its own request plus half of what was left (2 containers).
    const firstWindow = [0, ...slots].filter((t) => t < 10_000);
    expect(firstWindow.length).toBeLessThanOrEqual(1 + Math.ceil(19 / 2));
    expect(gaps(slots.filter((t) => t > 11_000)).every((gap) => gap === Math.round(1000 / 4.75))).toBe(true);
  });

  it('ignores an answer it has already read, and answers without window headers', () => {
    // Prepare
    const clock = fakeClock();
    const limiter = new RequestRateLimiter(10, clock);

    // Act
    limiter.observe(undefined);
    limiter.observe({ observedAt: 5 });

    // Assess
    expect(limiter.perSecond).toBe(10);
  });
});

describe('RequestRateLimiter with a burst', () => {
  it('takes back the slots an idle moment left unused, up to its burst, and keeps its pace on average', async () => {
    // Prepare: 4.75 requests/s with a burst of 2 (HubSpot's), idle for a second between requests
    const clock = fakeClock();
    const limiter = new RequestRateLimiter(4.75, clock, { burst: 2 });
    const interval = 1000 / 4.75;
    await limiter.acquire();
    clock.time += 1_000;

    // Act: two requests right after the idle second, then a third
    const before = clock.time;
    await limiter.acquire();
    await limiter.acquire();
    const twoAt = clock.time;
    await limiter.acquire();

    // Assess: the two go at once (one saved slot), the third waits for the pace
    expect(twoAt).toBeCloseTo(before, 5);
    expect(clock.time - before).toBeCloseTo(interval, 5);
  });

  it("never sends more than the window's limit across both containers, whatever the timing: HubSpot's 100 per 10 s", async () => {
    // Prepare: two containers at 4.75/s with the burst HubSpot's window allows, bursting after idle gaps
    const burst = windowBurst(100, 2);
    const clock = fakeClock();
    const slots: number[] = [];
    const containers = [0, 1].map(() => new RequestRateLimiter(4.75, clock, { burst }));

    // Act: every 10 ms each container takes every slot free at once, but each now and then
    // sits idle for a while (an invocation between batches), then catches up with its burst
    let step = 0;
    for (; clock.time < 40_000; clock.time += 10, step += 1) {
      for (const [index, limiter] of containers.entries()) {
        if ((step + index * 17) % 70 < 25) continue;
        while (await limiter.acquire(0)) slots.push(clock.time);
      }
    }

    // Assess
    expect(burst).toBe(2);
    const fullest = Math.max(...slots.map((start) => slots.filter((t) => t >= start && t < start + 10_000).length));
    expect(fullest).toBeLessThanOrEqual(100);
    expect(fullest).toBeGreaterThan(90);
  });

  it("waits out a pause the CRM asked for (Retry-After) even with saved slots", async () => {
    // Prepare
    const clock = fakeClock();
    const limiter = new RequestRateLimiter(10, clock, { burst: 5 });
    clock.time = 10_000;
    limiter.pauseFor(2_000);

    // Act
    await limiter.acquire();

    // Assess
    expect(clock.time).toBe(12_000);
  });

  it('bursts no more than the window reported by the provider allows', async () => {
    // Prepare: configured burst 150, but the provider reports a 100-per-10-s window
    const clock = fakeClock();
    const limiter = new RequestRateLimiter(4.75, clock, { burst: 150 });
    limiter.observe({ observedAt: 0, windowLimit: 100, windowMs: 10_000 });
    clock.time = 60_000;

    // Act: as many at once as it allows
    let atOnce = 0;
    while (await limiter.acquire(0)) atOnce += 1;

    // Assess
    expect(atOnce).toBe(2);
  });
});

describe('RequestRateLimiter on a daily quota', () => {
  const HOUR = 3_600_000;

  it.each<[string, { dailyLimit: number; dailyRemaining: number; dailyResetAt?: number }, number, number | undefined]>([
    ['holds until the quota resets once what is left is down to the reserve (0.2 %)', { dailyLimit: 250_000, dailyRemaining: 500, dailyResetAt: 3 * HOUR }, 0, 3 * HOUR],
    ['lets requests through above the reserve', { dailyLimit: 250_000, dailyRemaining: 501, dailyResetAt: 3 * HOUR }, 0, undefined],
    ['keeps at least 20 of a small quota', { dailyLimit: 1_000, dailyRemaining: 20, dailyResetAt: HOUR }, 0, HOUR],
    ['lets requests through once the quota has reset', { dailyLimit: 250_000, dailyRemaining: 0, dailyResetAt: HOUR }, HOUR, undefined],
    ['holds a rolling 24-hour quota (no reset time) for a minute, then lets one request read it again', { dailyLimit: 100_000, dailyRemaining: 150 }, 0, 60_000],
    ['... after which the count is read again', { dailyLimit: 100_000, dailyRemaining: 150 }, 60_000, undefined],
  ])('%s', (_case, daily, elapsed, pauseMs) => {
    // Prepare
    const clock = fakeClock();
    const limiter = new RequestRateLimiter(10, clock);
    limiter.observe({ ...daily, observedAt: 0 });
    clock.time = elapsed;

    // Act
    const hold = limiter.dailyQuotaHold(60_000);

    // Assess
    expect(hold === undefined ? undefined : hold.pauseMs).toBe(pauseMs);
    if (hold) expect(hold).toMatchObject({ kind: 'limit', reason: expect.stringContaining('nearly used up') });
  });
});

describe('WORKER_CONTAINERS', () => {
  it("is the worker's maximum concurrency in serverless.yml, which every per-container share is divided by", async () => {
    // Prepare
    const { readFile } = await import('node:fs/promises');
    const yaml = await readFile(new URL('../../../../serverless.yml', import.meta.url), 'utf8');

    // Act
    const declared = [...yaml.matchAll(/^\s+maximumConcurrency:\s*(\d+)/gm)].map((match) => Number(match[1]));

    // Assess
    expect(declared).toEqual([WORKER_CONTAINERS]);
  });
});
