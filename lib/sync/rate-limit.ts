/**
 * The worker's client-side CRM rate limit, per container. Hand-written: cockatiel (our
 * resilience library) has retries, breakers, bulkheads and timeouts but no rate limiter,
 * and what is needed is small: evenly spaced request slots, a pause the CRM can impose
 * with `Retry-After`, a refusal when the next slot is past the caller's deadline, and a
 * pace that follows what the provider's answers say of its budget (`observe`,
 * docs/crm-budgets.md):
 *
 * - the short window (HubSpot's 100 or 190 per 10 s, Dynamics' 6,000 per 5 min): the
 *   container's share of the window is 95 % of its limit divided by the containers sharing it
 *   (never above `CRM_MAX_REQUESTS_PER_SECOND` when that is set explicitly), and within a
 *   window it spends no more than its own requests that leave the window plus its share of
 *   what is left, so other users of the same account slow it down before the window is full;
 * - the daily quota (HubSpot's day, Salesforce's 24 hours): once what is left is down to a
 *   small reserve, `dailyQuotaHold` tells the worker to pause (as for a used-up quota)
 *   before the provider refuses.
 */
import type { RequestBudget } from '#lib/crm';
import { MAX_LIMIT_PAUSE_MS, type OutageSignal } from './outage.ts';

/** Clock and sleep, injectable for tests. */
export interface LimiterClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: LimiterClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Worker containers sending at once: the event source mapping's maximumConcurrency (serverless.yml). */
export const WORKER_CONTAINERS = 2;

/**
 * The share of a reported window the fleet plans to use: 5 % stays free, so requests that
 * arrive closer together than they were sent (network jitter) do not tip a full window over.
 */
export const WINDOW_HEADROOM = 0.95;

/** How the limiter reads the provider's budget. */
export interface BudgetOptions {
  /** Containers sharing the provider's limits (default `WORKER_CONTAINERS`). */
  containers?: number;
  /**
   * `CRM_MAX_REQUESTS_PER_SECOND` when set explicitly: never exceeded, whatever tier the
   * provider reports. Without it the provider's window alone sets the pace once it is known.
   */
  ceilingPerSecond?: number;
  /** Requests of a daily quota left unspent (default: the larger of 20 and 0.2 % of the quota). */
  dailyReserve?: number;
  /**
   * How long a daily count without a reset time (Salesforce's rolling 24 hours) holds the
   * worker before one request may read it again (default 60 s).
   */
  dailyRecheckMs?: number;
  /**
   * Slots a container may take ahead of the even spacing after it was idle (default 1: none),
   * so the time an invocation spends outside CRM requests (reading SQS, claiming, recording
   * versions) is not lost to the budget. Once the provider reports its window, the burst is
   * what the window's headroom holds for each container (`windowBurst`), so the fleet never
   * sends more than the window's limit within any window.
   */
  burst?: number;
}

/**
 * The burst one container may take in a window of `windowLimit` requests: the headroom the
 * paced share leaves (5 % of the limit), split between the containers. Each container then
 * sends at most its paced share plus this within any window: the fleet at most the limit.
 */
export function windowBurst(windowLimit: number, containers: number = WORKER_CONTAINERS): number {
  return Math.max(1, Math.floor((windowLimit * (1 - WINDOW_HEADROOM)) / Math.max(1, containers)));
}

/** The reserve kept of a daily quota of `limit` requests (see `BudgetOptions.dailyReserve`). */
export function defaultDailyReserve(limit: number | undefined): number {
  return Math.max(20, Math.ceil((limit ?? 0) * 0.002));
}

interface DailyView {
  limit?: number;
  remaining: number;
  resetAt?: number;
  observedAt: number;
}

/**
 * Hands out request slots evenly spaced (a token bucket holding one token): a burst never
 * exceeds the rate within any window, so a CRM that counts requests in windows sees no
 * more than it allows. The rate starts at the configured one and follows `observe`.
 */
export class RequestRateLimiter {
  readonly #base: number;
  readonly #clock: LimiterClock;
  readonly #containers: number;
  readonly #ceiling: number | undefined;
  readonly #options: BudgetOptions;
  /** The earliest time the next slot may be used, and the last slot handed out. */
  #nextSlotAt = 0;
  /** A pause the CRM imposed (`Retry-After`): no slot before it, burst or not. */
  #pausedUntil = 0;
  #burst: number;
  #lastSlotAt: number | undefined;
  /** The share of the provider's window per container, once a window was reported. */
  #tierRate: number | undefined;
  /** The pace within the window last reported, and until when it holds. */
  #windowRate: number | undefined;
  #windowRateUntil = 0;
  #windowMs = 10_000;
  /** Slots handed out within the longest window seen (own requests, for the window's arithmetic). */
  #sent: number[] = [];
  #lastObservedAt = Number.NEGATIVE_INFINITY;
  #daily: DailyView | undefined;

  constructor(perSecond: number, clock: LimiterClock = realClock, options: BudgetOptions = {}) {
    if (!(perSecond > 0)) throw new RangeError('perSecond must be positive');
    if (options.ceilingPerSecond !== undefined && !(options.ceilingPerSecond > 0)) throw new RangeError('ceilingPerSecond must be positive');
    this.#base = perSecond;
    this.#clock = clock;
    this.#containers = Math.max(1, options.containers ?? WORKER_CONTAINERS);
    this.#ceiling = options.ceilingPerSecond;
    this.#options = options;
    this.#burst = Math.max(1, Math.floor(options.burst ?? 1));
  }

  /** The configured rate (`CRM_MAX_REQUESTS_PER_SECOND` or the provider's default). */
  get basePerSecond(): number {
    return this.#base;
  }

  /** Requests per second this limiter allows now. */
  get perSecond(): number {
    return this.#rateAt(this.#clock.now());
  }

  /**
   * Waits for the next slot and takes it. Resolves false, taking nothing, when that slot
   * is more than `maxWaitMs` away (the caller has no time left to use it).
   */
  async acquire(maxWaitMs: number = Number.POSITIVE_INFINITY): Promise<boolean> {
    const now = this.#clock.now();
    // Evenly spaced slots, of which up to `burst - 1` may be taken early after idle time
    // (the generic cell rate algorithm: a slot is due at the theoretical time less the
    // tolerance); never before a pause the CRM imposed.
    const tolerance = ((this.#burst - 1) * 1000) / this.#rateAt(now);
    const slot = Math.max(now, this.#nextSlotAt - tolerance, this.#pausedUntil);
    if (slot - now > maxWaitMs) return false;
    this.#nextSlotAt = Math.max(this.#nextSlotAt, slot) + 1000 / this.#rateAt(slot);
    this.#lastSlotAt = slot;
    while (this.#sent.length > 0 && (this.#sent[0] as number) <= slot - this.#windowMs) this.#sent.shift();
    this.#sent.push(slot);
    if (slot > now) await this.#clock.sleep(slot - now);
    return true;
  }

  /** Hands out no slot before `ms` from now (the CRM said `Retry-After`). */
  pauseFor(ms: number): void {
    const until = this.#clock.now() + Math.max(0, ms);
    this.#nextSlotAt = Math.max(this.#nextSlotAt, until);
    this.#pausedUntil = Math.max(this.#pausedUntil, until);
  }

  /**
   * Reads the budget an answer revealed (the adapter's `budget()`); an observation already
   * seen, or none, changes nothing. The next slot moves out at once if the pace drops.
   */
  observe(budget: RequestBudget | undefined): void {
    if (!budget || !(budget.observedAt > this.#lastObservedAt)) return;
    this.#lastObservedAt = budget.observedAt;
    const at = budget.observedAt;
    const { windowLimit, windowRemaining, windowMs } = budget;
    if (windowMs !== undefined && windowMs > 0) {
      this.#windowMs = Math.max(this.#windowMs, windowMs);
      const seconds = windowMs / 1000;
      if (windowLimit !== undefined && windowLimit > 0) {
        const share = (windowLimit * WINDOW_HEADROOM) / this.#containers / seconds;
        this.#tierRate = this.#ceiling === undefined ? share : Math.min(this.#ceiling, share);
        if (this.#options.burst !== undefined) this.#burst = Math.min(Math.max(1, Math.floor(this.#options.burst)), windowBurst(windowLimit, this.#containers));
      }
      if (windowRemaining !== undefined) {
        // Within the next window this container may send again what of its own leaves the
        // window, plus its share of what is left; at least one request per window.
        const own = this.#sentSince(at - windowMs);
        const spendable = own + Math.max(0, windowRemaining) / this.#containers;
        this.#windowRate = Math.max(1, spendable) / seconds;
        this.#windowRateUntil = at + windowMs;
      }
    }
    if (budget.dailyRemaining !== undefined) {
      this.#daily = {
        remaining: budget.dailyRemaining,
        observedAt: at,
        ...(budget.dailyLimit === undefined ? {} : { limit: budget.dailyLimit }),
        ...(budget.dailyResetAt === undefined ? {} : { resetAt: budget.dailyResetAt }),
      };
    }
    if (this.#lastSlotAt !== undefined) {
      this.#nextSlotAt = Math.max(this.#nextSlotAt, this.#lastSlotAt + 1000 / this.#rateAt(this.#clock.now()));
    }
  }

  /**
   * The pause the daily quota calls for, or undefined: when what is left is down to the
   * reserve, hold until the quota resets (when the provider says when), else for
   * `dailyRecheckMs`, after which one request may read the count again. Never shorter
   * than `probeIntervalMs` (the worker probes at most once per interval).
   */
  dailyQuotaHold(probeIntervalMs: number): OutageSignal | undefined {
    const daily = this.#daily;
    if (!daily) return undefined;
    const now = this.#clock.now();
    const recheckMs = this.#options.dailyRecheckMs ?? 60_000;
    if (daily.resetAt !== undefined ? now >= daily.resetAt : now >= daily.observedAt + recheckMs) return undefined;
    const reserve = this.#options.dailyReserve ?? defaultDailyReserve(daily.limit);
    if (daily.remaining > reserve) return undefined;
    const untilMs = daily.resetAt !== undefined ? daily.resetAt - now : daily.observedAt + recheckMs - now;
    const of = daily.limit === undefined ? '' : ` of ${daily.limit}`;
    return {
      kind: 'limit',
      reason: `the CRM's daily request quota is nearly used up (${daily.remaining}${of} left, ${reserve} kept in reserve)`,
      pauseMs: Math.min(MAX_LIMIT_PAUSE_MS, Math.max(probeIntervalMs, untilMs)),
    };
  }

  #rateAt(at: number): number {
    const tier = this.#tierRate ?? this.#base;
    const rate = at < this.#windowRateUntil && this.#windowRate !== undefined ? Math.min(tier, this.#windowRate) : tier;
    return rate > 0 ? rate : this.#base;
  }

  /** Own slots after `since` (slots older than the longest window are dropped as new ones are taken). */
  #sentSince(since: number): number {
    return this.#sent.filter((at) => at > since).length;
  }
}
