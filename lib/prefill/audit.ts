/**
 * The prefill route's audit (docs/routes.md, "Audit and metrics"): one `audit` line per
 * attempt with counts and ids, never a value, and the attempt, failure and latency
 * metrics. Written by the HTTP stack's audit middleware, whatever the outcome.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { AppError, PayloadTooLargeError, ValidationError } from '#lib/errors';
import { GenesysError } from '#lib/genesys';
import type { AttemptAudit } from '#lib/lambda';
import { MetricNames, metrics } from '#lib/observability';
import { SessionStoreError } from '#lib/state';
import { AttributesTooLargeError, SyncNotQueuedError } from './errors.ts';

/** What a prefill attempt notes as it goes, for its audit line. */
export interface PrefillAttempt {
  sessionId: string;
  /** Keys of the request (attributes and consent), before processing. */
  attributeCount: number;
  /** UTF-8 bytes of the processed `{attributes}`. */
  byteSize: number;
  syncJobId: string;
  applied: 'pending' | 'conversation';
}

/** Why an attempt failed, as the `reason` dimension of `PrefillFailures` and in the audit. */
export type PrefillFailureReason = 'validation' | 'too_large' | 'not_found' | 'throttled' | 'upstream' | 'state' | 'enqueue' | 'internal';

/** Maps a failure to its reason; anything unexpected is `internal`. */
export function prefillFailureReason(error: unknown): PrefillFailureReason {
  if (error instanceof SyncNotQueuedError) return 'enqueue';
  if (error instanceof SessionStoreError) return 'state';
  if (error instanceof PayloadTooLargeError) return 'too_large';
  if (error instanceof ValidationError) return 'validation';
  if (error instanceof GenesysError) {
    if (error.status === 404) return 'not_found';
    if (error.status === 503) return 'throttled';
    return 'upstream';
  }
  // middy's JSON parser errors (415 / malformed JSON) carry a 4xx statusCode.
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  if (!(error instanceof AppError) && typeof status === 'number' && status >= 400 && status < 500) return 'validation';
  if (error instanceof AppError && error.type === 'token-endpoint-failure') return 'upstream';
  return 'internal';
}

/** The prefill audit: `prefill_success` / `prefill_failure` lines and the attempt metrics. */
export const prefillAudit: AttemptAudit<PrefillAttempt> = {
  line: ({ auditId, facts, status, failed, error, problemType, latencyMs, requestBytes }) => {
    const byteSize = facts.byteSize ?? (error instanceof AttributesTooLargeError ? error.byteSize : undefined);
    return {
      auditId,
      type: failed ? 'prefill_failure' : 'prefill_success',
      sessionId: facts.sessionId ?? null,
      attributeCount: facts.attributeCount ?? 0,
      byteSize: byteSize ?? null,
      requestBytes,
      latencyMs: Math.round(latencyMs * 100) / 100,
      status,
      ...(failed ? { reason: prefillFailureReason(error), problemType } : {}),
      ...(facts.syncJobId ? { syncJobId: facts.syncJobId } : {}),
      ...(facts.applied ? { applied: facts.applied } : {}),
    };
  },
  count: ({ failed, error, latencyMs }) => {
    metrics.addMetric(MetricNames.PrefillAttempts, MetricUnit.Count, 1);
    if (failed) {
      const failure = metrics.singleMetric();
      failure.addDimension('reason', prefillFailureReason(error));
      failure.addMetric(MetricNames.PrefillFailures, MetricUnit.Count, 1);
    }
    metrics.addMetric(MetricNames.PrefillLatency, MetricUnit.Milliseconds, latencyMs);
  },
};
