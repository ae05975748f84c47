import { describe, expect, it } from 'vitest';
import { RequestRateLimiter, type LimiterClock } from '#lib/sync';

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
