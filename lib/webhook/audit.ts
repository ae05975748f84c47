/**
 * The webhook route's audit (docs/routes.md, "Signed webhooks"): one `audit` line per
 * delivery with ids and counts, never an attribute value, and `WebhookRejected` by reason.
 * Written by the HTTP stack's audit middleware, whatever the outcome.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { UnauthorizedError, ValidationError } from '#lib/errors';
import { EnqueueError } from '#lib/jobs';
import type { AttemptAudit } from '#lib/lambda';
import { MetricNames, metrics } from '#lib/observability';
import { UUID_PATTERN } from '#lib/validation';
import { StaleEventError } from './errors.ts';
import type { SignatureMatch } from './signature.ts';

/** What a delivery notes as it goes, for its audit line. */
export interface WebhookDelivery {
  event: string;
  eventId: string;
  sessionId: string;
  signature: SignatureMatch;
  attributeCount: number;
  jobId: string;
  /** The delivery was acknowledged without a job (an event the route does not act on). */
  ignored: boolean;
}

/** Why a delivery was refused, as the `reason` dimension of `WebhookRejected` and in the audit. */
export type WebhookRejectionReason = 'signature' | 'stale' | 'malformed' | 'enqueue' | 'internal';

/** Maps a failure to its reason; anything unexpected (secrets unreadable...) is `internal`. */
export function webhookRejectionReason(error: unknown): WebhookRejectionReason {
  if (error instanceof UnauthorizedError) return 'signature';
  if (error instanceof StaleEventError) return 'stale';
  if (error instanceof ValidationError) return 'malformed';
  if (error instanceof EnqueueError) return 'enqueue';
  return 'internal';
}

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The webhook audit: `webhook_accepted` / `webhook_ignored` / `webhook_rejected` lines and the rejection count. */
export const webhookAudit: AttemptAudit<WebhookDelivery> = {
  line: ({ auditId, facts, status, failed, error, problemType, latencyMs, requestBytes }) => ({
    auditId,
    type: failed ? 'webhook_rejected' : facts.ignored ? 'webhook_ignored' : 'webhook_accepted',
    event: facts.event ?? null,
    eventId: facts.eventId !== undefined && SAFE_ID.test(facts.eventId) ? facts.eventId : null,
    sessionId: facts.sessionId !== undefined && UUID_PATTERN.test(facts.sessionId) ? facts.sessionId.toLowerCase() : null,
    signatureVersion: facts.signature ?? null,
    attributeCount: facts.attributeCount ?? 0,
    byteSize: requestBytes,
    latencyMs: Math.round(latencyMs * 100) / 100,
    status,
    ...(failed ? { reason: webhookRejectionReason(error), problemType } : {}),
    ...(facts.jobId ? { jobId: facts.jobId } : {}),
  }),
  count: ({ failed, error }) => {
    if (!failed) return;
    const rejected = metrics.singleMetric();
    rejected.addDimension('reason', webhookRejectionReason(error));
    rejected.addMetric(MetricNames.WebhookRejected, MetricUnit.Count, 1);
  },
};
