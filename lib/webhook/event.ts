/**
 * The Genesys webhook event (docs/api.md section 2): its shape, the freshness of its
 * timestamp, and the CRM sync job an attribute update becomes. Pure.
 */
import { ValidationError } from '#lib/errors';
import { buildJob, deterministicJobId, type CrmSyncJob, type JobScalar } from '#lib/jobs';
import { identityKeyKind, maskScalar } from '#lib/pii';
import { freeTextErrors, schemaCheck } from '#lib/validation';
import { StaleEventError } from './errors.ts';
import { validateWebhookEvent } from './schema.validators.js';

export { ATTRIBUTES_UPDATED_EVENT } from './event-schema.ts';

/** Events older or newer than this are refused (replay protection and clock sanity). */
export const MAX_EVENT_SKEW_MS = 5 * 60_000;

/** A delivered event. Unknown extra fields are allowed: Genesys adds fields over time. */
export interface WebhookEvent {
  eventId?: string;
  event: string;
  sessionId?: string;
  attributes?: Record<string, JobScalar>;
  timestamp: string;
  [field: string]: unknown;
}

const checkEvent = schemaCheck<WebhookEvent>(validateWebhookEvent);

/**
 * The event in a verified body, or a 400: the body must be JSON and have the contract's
 * shape (an attribute update needs a UUID `sessionId` and flat attributes), and its
 * attributes must pass the shared free-text check (no character a hop cannot store, no
 * identifier in a key, no two keys equal but for case).
 */
export function parseWebhookEvent(rawBody: Buffer): WebhookEvent {
  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new ValidationError('The webhook body is not valid JSON.', [{ path: '/', message: 'must be a valid JSON document' }]);
  }
  const checked = checkEvent(body);
  if (!checked.ok) throw new ValidationError('The webhook event has an unknown shape.', checked.errors);
  if (Number.isNaN(Date.parse(checked.value.timestamp))) {
    throw new ValidationError('The webhook event has an unknown shape.', [{ path: '/timestamp', message: 'must be a valid date-time' }]);
  }
  const textErrors = freeTextErrors([{ path: '/attributes', value: checked.value.attributes, keys: true }]);
  if (textErrors.length > 0) throw new ValidationError('The webhook event attributes cannot be carried.', textErrors);
  return checked.value;
}

/** Refuses an event whose timestamp is more than `MAX_EVENT_SKEW_MS` before or after `now`. */
export function assertFresh(event: WebhookEvent, now: number, maxSkewMs: number = MAX_EVENT_SKEW_MS): void {
  const skew = Date.parse(event.timestamp) - now;
  if (Math.abs(skew) > maxSkewMs) {
    const seconds = Math.round(Math.abs(skew) / 1000);
    throw new StaleEventError(
      `The event timestamp is ${seconds} s in the ${skew < 0 ? 'past' : 'future'}; at most ${maxSkewMs / 1000} s either way is accepted.`,
    );
  }
}

/**
 * The job id of a delivery: from `eventId` when Genesys sent one, else from the whole
 * event (canonical JSON, so a redelivery with the same content gets the same id).
 */
export function webhookJobId(event: WebhookEvent): string {
  return deterministicJobId('webhook', event.eventId !== undefined ? { eventId: event.eventId } : event);
}


/**
 * The CRM sync job of an attribute update: the session as `externalId`, the attributes
 * masked (identity keys left out), and the event time as `sourceUpdatedAt`, so the worker
 * keeps the newest change however deliveries are ordered.
 */
export function buildWebhookJob(event: WebhookEvent, now: Date = new Date()): CrmSyncJob {
  const at = new Date(Date.parse(event.timestamp)).toISOString();
  const attributes = event.attributes
    ? Object.fromEntries(
        Object.entries(event.attributes)
          // The identity keys (any case) hold a guest's own identifiers: the CRM gets hashes for those, not masks.
          .filter(([key]) => identityKeyKind(key) === undefined)
          .map(([key, value]) => [key, maskScalar(key, value).value]),
      )
    : undefined;
  return buildJob(
    'webhook',
    webhookJobId(event),
    {
      externalId: (event.sessionId ?? '').toLowerCase(),
      ...(attributes ? { attributes } : {}),
      lastInteraction: at,
      sourceUpdatedAt: at,
    },
    now,
  );
}
