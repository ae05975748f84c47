/**
 * `POST /webhooks/genesys` end to end: signature over the raw bytes first, then shape and
 * freshness, then one SQS send for an attribute update; no CRM call, so Genesys gets its
 * 202 fast. Every delivery is audited and measured, whatever its outcome.
 */
import { randomUUID } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { UnauthorizedError, ValidationError } from '#lib/errors';
import { EnqueueError, type CrmSyncJob } from '#lib/jobs';
import { toProblem } from '#lib/lambda';
import { logger, MetricNames, metrics } from '#lib/observability';
import { UUID_PATTERN } from '#lib/validation';
import { ATTRIBUTES_UPDATED_EVENT, StaleEventError, assertFresh, buildWebhookJob, parseWebhookEvent } from './event.ts';
import { SIGNATURE_HEADER, type SignatureMatch } from './signature.ts';

/** What the webhook flow needs from the outside world. */
export interface WebhookDependencies {
  secrets: { verify(header: string | undefined, rawBody: Buffer): Promise<SignatureMatch | undefined> };
  /** Queues the jobs (with its own retries); throws when they could not be queued. */
  enqueue(jobs: CrmSyncJob[]): Promise<unknown>;
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

interface Delivery {
  event?: string;
  eventId?: string;
  sessionId?: string;
  signature?: SignatureMatch;
  attributeCount?: number;
  jobId?: string;
}

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** One structured audit line per delivery: ids and counts, never an attribute value. */
function audit(
  delivery: Delivery,
  outcome: { type: 'webhook_accepted' | 'webhook_ignored' | 'webhook_rejected'; status: number; reason?: WebhookRejectionReason; problemType?: string },
  latencyMs: number,
  byteSize: number,
): void {
  logger.info('audit', {
    auditId: randomUUID(),
    type: outcome.type,
    event: delivery.event ?? null,
    eventId: delivery.eventId !== undefined && SAFE_ID.test(delivery.eventId) ? delivery.eventId : null,
    sessionId: delivery.sessionId !== undefined && UUID_PATTERN.test(delivery.sessionId) ? delivery.sessionId.toLowerCase() : null,
    signatureVersion: delivery.signature ?? null,
    attributeCount: delivery.attributeCount ?? 0,
    byteSize,
    latencyMs: Math.round(latencyMs * 100) / 100,
    status: outcome.status,
    ...(outcome.reason ? { reason: outcome.reason, problemType: outcome.problemType } : {}),
    ...(delivery.jobId ? { jobId: delivery.jobId } : {}),
  });
}

/**
 * Verifies and acknowledges one delivery. Errors are rethrown for the HTTP stack to answer
 * (401 bad signature, 400 malformed or stale, 502 not queued); the audit line and metrics
 * are written either way. `resolve` supplies the dependencies inside the attempt.
 */
export async function acknowledgeWebhook(request: WebhookRequest, resolve: () => WebhookDependencies): Promise<WebhookAcknowledgement> {
  const started = performance.now();
  const delivery: Delivery = {};
  try {
    const deps = resolve();
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
      audit(delivery, { type: 'webhook_ignored', status: 202 }, performance.now() - started, request.rawBody.length);
      return { acknowledged: true, ignored: true };
    }

    const job = buildWebhookJob(event, now);
    delivery.jobId = job.jobId;
    await deps.enqueue([job]);
    metrics.addMetric(MetricNames.WebhookAccepted, MetricUnit.Count, 1);
    metrics.addMetric(MetricNames.JobsEnqueued, MetricUnit.Count, 1);
    audit(delivery, { type: 'webhook_accepted', status: 202 }, performance.now() - started, request.rawBody.length);
    return { acknowledged: true, jobId: job.jobId };
  } catch (error) {
    const reason = webhookRejectionReason(error);
    const problem = toProblem(error, 'audit');
    const rejected = metrics.singleMetric();
    rejected.addDimension('reason', reason);
    rejected.addMetric(MetricNames.WebhookRejected, MetricUnit.Count, 1);
    audit(
      delivery,
      { type: 'webhook_rejected', status: problem.statusCode, reason, problemType: problem.document.type },
      performance.now() - started,
      request.rawBody.length,
    );
    throw error;
  }
}
