/**
 * The worker's per-container state (STYLE trait 2): one rate limiter and one circuit
 * breaker, created on first use and kept while the container is warm, so the rate and
 * the breaker's memory of failures span invocations, as they must.
 */
import type { CircuitBreakerPolicy } from 'cockatiel';
import { countBreakerChange, createCrmBreaker } from '#lib/crm';
import { logger } from '#lib/observability';
import { RequestRateLimiter, type BudgetOptions } from './rate-limit.ts';

let limiter: { key: string; limiter: RequestRateLimiter } | undefined;
let breaker: CircuitBreakerPolicy | undefined;

/**
 * The container's CRM rate limiter (`CRM_MAX_REQUESTS_PER_SECOND`, adapting to the
 * provider's budget as `budget` says); rebuilt only when its settings change.
 */
export function sharedCrmRateLimiter(perSecond: number, budget: BudgetOptions = {}): RequestRateLimiter {
  const key = JSON.stringify([perSecond, budget]);
  if (limiter?.key !== key) limiter = { key, limiter: new RequestRateLimiter(perSecond, undefined, budget) };
  return limiter.limiter;
}

/** The container's CRM circuit breaker; state changes are logged and counted. */
export function sharedCrmBreaker(halfOpenAfterMs: number): CircuitBreakerPolicy {
  breaker ??= createCrmBreaker({
    halfOpenAfterMs,
    onStateChange: (state) => {
      if (state === 'open') logger.warn('CRM circuit breaker opened: failing batches fast', { halfOpenAfterMs });
      else logger.info(`CRM circuit breaker ${state}`);
      countBreakerChange(state);
    },
  });
  return breaker;
}

/** Forgets the container state, so each test starts cold. */
export function resetSharedSyncForTests(): void {
  limiter = undefined;
  breaker = undefined;
}
