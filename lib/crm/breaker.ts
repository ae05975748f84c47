/**
 * The one CRM circuit breaker (cockatiel), used by the sync worker and the pre-chat
 * lookup: after repeated failures it opens and callers fail fast instead of hammering a
 * CRM that is down; after a pause it lets one request through (half-open) and closes again
 * on success. One spelling of its states and one emission of its metrics for both callers.
 */
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhenResult, type CircuitBreakerPolicy, type Policy } from 'cockatiel';
import { MetricNames, metrics } from '#lib/observability';
import type { BatchUpsertOutcome } from './batch-upsert.ts';

/** A breaker state as logged and counted. */
export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

/** Options of `createCrmBreaker`. */
export interface CrmBreakerOptions {
  /** Consecutive failing requests that open it (default 5). */
  threshold?: number;
  /** How long it stays open before letting a probe through. */
  halfOpenAfterMs: number;
  /**
   * What counts as a failure (a cockatiel policy): by default an outcome that says the CRM
   * is unwell (`countsAgainstBreaker`); the lookup counts every thrown error (`handleAll`).
   */
  failures?: Policy;
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

const STATE_NAMES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/** Builds a CRM breaker; each caller keeps one per container, so its state outlives invocations. */
export function createCrmBreaker(options: CrmBreakerOptions): CircuitBreakerPolicy {
  const policy = circuitBreaker(options.failures ?? handleWhenResult(countsAgainstBreaker), {
    halfOpenAfter: options.halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(options.threshold ?? 5),
  });
  const notify = options.onStateChange;
  if (notify) policy.onStateChange((state) => notify(STATE_NAMES[state]));
  return policy;
}

/** The breaker's state by name. */
export function breakerState(policy: CircuitBreakerPolicy): BreakerState {
  return STATE_NAMES[policy.state];
}

const BREAKER_METRICS: Partial<Record<BreakerState, string>> = {
  open: MetricNames.CrmBreakerOpened,
  'half-open': MetricNames.CrmBreakerHalfOpened,
  closed: MetricNames.CrmBreakerClosed,
};

/** Counts a state change (`CrmBreakerOpened` / `HalfOpened` / `Closed`): the one emission of both breakers' metrics. */
export function countBreakerChange(state: BreakerState, sink: Pick<Metrics, 'addMetric'> = metrics): void {
  const name = BREAKER_METRICS[state];
  if (name) sink.addMetric(name, MetricUnit.Count, 1);
}
