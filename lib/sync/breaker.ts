/**
 * The circuit breaker around the CRM (cockatiel): after repeated transient failures it
 * opens and the worker fails its batches fast instead of hammering a CRM that is down;
 * after a pause it lets one request through (half-open) and closes again on success.
 */
import { CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhenResult, type CircuitBreakerPolicy } from 'cockatiel';
import type { BatchUpsertOutcome } from '#lib/crm';

/** A breaker state as logged and counted. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** Options of `createCrmBreaker`. */
export interface CrmBreakerOptions {
  /** Consecutive failing requests that open it (default 5). */
  threshold?: number;
  /** How long it stays open before letting a probe through. */
  halfOpenAfterMs: number;
  onStateChange?: (state: BreakerState) => void;
}

/**
 * Whether an outcome says the CRM is unwell: throttling, errors, no answer. A 409 (the
 * same key still in flight) is the CRM working on our own request, not a failure, and a
 * 200 with some failed records is a healthy CRM answering.
 */
export function countsAgainstBreaker(outcome: unknown): boolean {
  const candidate = outcome as BatchUpsertOutcome | undefined;
  return candidate?.kind === 'transient' && candidate.status !== 409;
}

const STATE_NAMES: Partial<Record<CircuitState, BreakerState>> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
};

/** Builds the breaker; the worker keeps one per container, so its state outlives invocations. */
export function createCrmBreaker(options: CrmBreakerOptions): CircuitBreakerPolicy {
  const policy = circuitBreaker(handleWhenResult(countsAgainstBreaker), {
    halfOpenAfter: options.halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(options.threshold ?? 5),
  });
  if (options.onStateChange) {
    const notify = options.onStateChange;
    policy.onStateChange((state) => {
      const name = STATE_NAMES[state];
      if (name) notify(name);
    });
  }
  return policy;
}

/** The breaker's state by name. */
export function breakerState(policy: CircuitBreakerPolicy): BreakerState {
  return STATE_NAMES[policy.state] ?? 'open';
}
