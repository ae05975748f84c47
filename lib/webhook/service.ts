/**
 * `POST /webhooks/genesys` end to end: signature over the raw bytes first, then shape and
 * freshness, then one SQS send for an attribute update; no CRM call, so Genesys gets its
 * 202 fast. What it learns of the delivery is noted in its facts, which the HTTP stack's
 * audit middleware writes whatever the outcome (`webhookAudit`).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { UnauthorizedError } from '#lib/errors';
import type { Deadline } from '#lib/genesys';
import type { CrmSyncJob } from '#lib/jobs';
import { MetricNames, metrics } from '#lib/observability';
import type { WebhookDelivery } from './audit.ts';
import { ATTRIBUTES_UPDATED_EVENT, assertFresh, buildWebhookJob, parseWebhookEvent } from './event.ts';
import { SIGNATURE_HEADER, type SignatureMatch } from './signature.ts';

/** What the webhook flow needs from the outside world. */
export interface WebhookDependencies {
  secrets: { verify(header: string | undefined, rawBody: Buffer): Promise<SignatureMatch | undefined> };
  /** Queues the jobs within `deadline` (with its own retries); throws when they could not be queued. */
  enqueue(jobs: CrmSyncJob[], deadline?: Deadline): Promise<unknown>;
  /** Time the enqueue may take: what the invocation has left, less a moment to answer. */
  enqueueDeadline?: Deadline;
  now?: () => Date;
}

/** The parts of the HTTP request the flow reads. */
export interface WebhookRequest {
  headers: Record<string, string | undefined>;
  /** The exact bytes received (base64-decoded by the HTTP stack when API Gateway encoded them). */
  rawBody: Buffer;
}

/** The 202 body (docs/api.md section 2). */
export type WebhookAcknowledgement = { acknowledged: true; jobId: string } | { acknowledged: true; ignored: true };

/**
 * Verifies and acknowledges one delivery. Errors are thrown for the HTTP stack to answer
 * (401 bad signature, 400 malformed or stale, 502 not queued); what was learnt of the
 * delivery before is in `delivery`, for its audit line.
 */
export async function acknowledgeWebhook(
  request: WebhookRequest,
  deps: WebhookDependencies,
  delivery: Partial<WebhookDelivery> = {},
): Promise<WebhookAcknowledgement> {
  const header = request.headers[SIGNATURE_HEADER];
  const signature = await deps.secrets.verify(header, request.rawBody);
  if (signature === undefined) {
    throw new UnauthorizedError(
      header === undefined ? `The ${SIGNATURE_HEADER} header is missing.` : `The ${SIGNATURE_HEADER} signature does not match.`,
    );
  }
  delivery.signature = signature;

  const event = parseWebhookEvent(request.rawBody);
  Object.assign(delivery, {
    event: event.event,
    eventId: event.eventId,
    sessionId: event.sessionId,
    attributeCount: Object.keys(event.attributes ?? {}).length,
  });
  const now = deps.now?.() ?? new Date();
  assertFresh(event, now.getTime());

  if (event.event !== ATTRIBUTES_UPDATED_EVENT) {
    metrics.addMetric(MetricNames.WebhookIgnored, MetricUnit.Count, 1);
    delivery.ignored = true;
    return { acknowledged: true, ignored: true };
  }

  const job = buildWebhookJob(event, now);
  delivery.jobId = job.jobId;
  await deps.enqueue([job], deps.enqueueDeadline);
  metrics.addMetric(MetricNames.WebhookAccepted, MetricUnit.Count, 1);
  metrics.addMetric(MetricNames.JobsEnqueued, MetricUnit.Count, 1);
  return { acknowledged: true, jobId: job.jobId };
}
