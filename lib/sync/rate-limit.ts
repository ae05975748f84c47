/**
 * The worker's client-side CRM rate limit, per container. Hand-written: cockatiel (our
 * resilience library) has retries, breakers, bulkheads and timeouts but no rate limiter,
 * and what is needed is small: evenly spaced request slots, a pause the CRM can impose
 * with `Retry-After`, and a refusal when the next slot is past the caller's deadline.
 */

/** Clock and sleep, injectable for tests. */
export interface LimiterClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: LimiterClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * Hands out at most `perSecond` request slots per second, evenly spaced (a token bucket
 * holding one token): a burst never exceeds the rate within any one-second window, so a
 * CRM that counts requests in fixed windows sees no more than it allows.
 */
export class RequestRateLimiter {
  readonly #intervalMs: number;
  readonly #clock: LimiterClock;
  /** The earliest time the next slot may be used. */
  #nextSlotAt = 0;

  constructor(perSecond: number, clock: LimiterClock = realClock) {
    if (!(perSecond > 0)) throw new RangeError('perSecond must be positive');
    this.#intervalMs = 1000 / perSecond;
    this.#clock = clock;
  }

  /** Requests per second this limiter allows. */
  get perSecond(): number {
    return 1000 / this.#intervalMs;
  }

  /**
   * Waits for the next slot and takes it. Resolves false, taking nothing, when that slot
   * is more than `maxWaitMs` away (the caller has no time left to use it).
   */
  async acquire(maxWaitMs: number = Number.POSITIVE_INFINITY): Promise<boolean> {
    const now = this.#clock.now();
    const slot = Math.max(now, this.#nextSlotAt);
    if (slot - now > maxWaitMs) return false;
    this.#nextSlotAt = slot + this.#intervalMs;
    if (slot > now) await this.#clock.sleep(slot - now);
    return true;
  }

  /** Hands out no slot before `ms` from now (the CRM said `Retry-After`). */
  pauseFor(ms: number): void {
    this.#nextSlotAt = Math.max(this.#nextSlotAt, this.#clock.now() + Math.max(0, ms));
  }
}
