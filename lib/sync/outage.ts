/**
 * When one CRM answer means the CRM as a whole cannot take work (docs/api.md section 5),
 * as opposed to one request or one record failing: the worker pauses on these instead
 * of spending the queue's receives on them (pure).
 */
import type { BatchUpsertOutcome } from '#lib/crm';
import type { PauseKind } from './pause.ts';

/** An answer that pauses the CRM sync, and for how long. */
export interface OutageSignal {
  kind: PauseKind;
  reason: string;
  /** How long to hold before the first probe, ms. */
  pauseMs: number;
}

/** A `Retry-After` at least this long is a quota (a daily or hourly limit), not throttling. */
export const LIMIT_RETRY_AFTER_MS = 60_000;

/** The longest a quota pause lasts before a probe (a day and a bit: daily quotas reset within it). */
export const MAX_LIMIT_PAUSE_MS = 25 * 3_600_000;

/**
 * The outage an upsert outcome reveals, if any: a provider's daily quota (pause until it
 * resets) or refused credentials, as the adapter classified them; else 401 or 403 after the token was re-read
 * (credentials refused), or 429 with a `Retry-After` of a minute or more (a quota: pause
 * until it resets). Throttling with a short `Retry-After`, 5xx and timeouts are left to
 * the retries and the circuit breaker, whose opening is itself an outage.
 */
export function outageOf(outcome: BatchUpsertOutcome, probeIntervalMs: number, now: number = Date.now()): OutageSignal | undefined {
  if (outcome.kind !== 'transient') return undefined;
  // A provider adapter's own verdict first: its quota and credentials signals need no status rule.
  const failure = outcome.failure;
  if (failure?.kind === 'quota_exhausted') {
    // Until the quota resets when the provider says when; else its probe interval (at least ours: one probe a minute at most).
    const untilReset = failure.resetAt === undefined ? undefined : failure.resetAt - now;
    const pauseMs = Math.min(MAX_LIMIT_PAUSE_MS, Math.max(probeIntervalMs, untilReset ?? failure.probeAfterMs));
    return { kind: 'limit', reason: `the CRM's daily request quota is used up: ${failure.reason}`, pauseMs };
  }
  if (failure?.kind === 'credentials') return { kind: 'credentials', reason: `the CRM refused the worker's credentials: ${failure.reason}`, pauseMs: probeIntervalMs };
  if (outcome.status === undefined) return undefined;
  if (outcome.status === 401 || outcome.status === 403) {
    return { kind: 'credentials', reason: `the CRM refused the worker's credentials (${outcome.status})`, pauseMs: probeIntervalMs };
  }
  if (outcome.status === 429 && outcome.retryAfterMs !== undefined && outcome.retryAfterMs >= LIMIT_RETRY_AFTER_MS) {
    const pauseMs = Math.min(MAX_LIMIT_PAUSE_MS, outcome.retryAfterMs);
    return { kind: 'limit', reason: `the CRM's request quota is used up (Retry-After ${Math.round(outcome.retryAfterMs / 1000)} s)`, pauseMs };
  }
  return undefined;
}

/** The outage an open circuit breaker stands for. */
export const breakerOutage = (probeIntervalMs: number): OutageSignal => ({
  kind: 'outage',
  reason: 'the CRM circuit breaker opened after repeated failures',
  pauseMs: probeIntervalMs,
});

/** What one probe of the CRM found. */
export type ProbeResult =
  | { kind: 'ok' }
  | { kind: 'down' | 'credentials'; reason: string }
  | { kind: 'limit'; reason: string; retryAfterMs: number };

/**
 * Reads one probe answer (an HTTP status, or none): any answer but 401/403, 408, 429 and
 * 5xx means the CRM is reachable and taking requests again (a short 429 is throttling,
 * which the worker's limiter honours).
 */
export function probeResultOf(answer: { status: number; retryAfterMs?: number } | { error: string }): ProbeResult {
  if ('error' in answer) return { kind: 'down', reason: answer.error };
  const { status, retryAfterMs } = answer;
  if (status === 401 || status === 403) return { kind: 'credentials', reason: `the CRM refused the credentials (${status})` };
  if (status === 429) {
    if (retryAfterMs === undefined) return { kind: 'down', reason: 'the CRM answered 429 without Retry-After' };
    if (retryAfterMs >= LIMIT_RETRY_AFTER_MS) {
      return { kind: 'limit', reason: `the CRM's request quota is used up (Retry-After ${Math.round(retryAfterMs / 1000)} s)`, retryAfterMs: Math.min(MAX_LIMIT_PAUSE_MS, retryAfterMs) };
    }
    return { kind: 'ok' };
  }
  if (status === 408 || status >= 500) return { kind: 'down', reason: `the CRM answered ${status}` };
  return { kind: 'ok' };
}
