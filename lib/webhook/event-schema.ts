/**
 * The webhook event's JSON schema (docs/api.md section 2), precompiled by
 * `npm run build:schemas` into `schema.validators.js`.
 */
import { UUID_PATTERN } from '#lib/validation';

/** The one event type that becomes a CRM sync job; every other is acknowledged and ignored. */
export const ATTRIBUTES_UPDATED_EVENT = 'guest.session.attributes.updated';

/** RFC 3339 date-time with a zone (what Genesys sends), checked again by Date.parse. */
const TIMESTAMP_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(?:\\.\\d{1,9})?(?:Z|[+-]\\d{2}:\\d{2})$';

/** The event's JSON schema. */
export const webhookEventSchema = {
  type: 'object',
  required: ['event', 'timestamp'],
  properties: {
    eventId: { type: 'string', minLength: 1, maxLength: 256 },
    event: { type: 'string', minLength: 1, maxLength: 256 },
    sessionId: { type: 'string', minLength: 1, maxLength: 256 },
    timestamp: { type: 'string', pattern: TIMESTAMP_PATTERN },
    attributes: {
      type: 'object',
      maxProperties: 500,
      propertyNames: { maxLength: 256 },
      additionalProperties: { type: ['string', 'number', 'boolean'] },
    },
  },
  // An attribute update must say which session it is about.
  if: { type: 'object', properties: { event: { const: ATTRIBUTES_UPDATED_EVENT } }, required: ['event'] },
  then: { type: 'object', required: ['sessionId'], properties: { sessionId: { type: 'string', pattern: UUID_PATTERN.source } } },
};
