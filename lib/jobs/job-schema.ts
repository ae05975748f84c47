/**
 * The CRM sync job's JSON schema (docs/api.md section 5), precompiled by
 * `npm run build:schemas` into `schema.validators.js`.
 */
import { JOB_SOURCES } from './job.ts';

/** ISO 8601 date-time with seconds optional and a zone, as `Date#toISOString()` writes it. */
const ISO_DATE_TIME = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(?::\\d{2}(?:\\.\\d{1,9})?)?(?:Z|[+-]\\d{2}:\\d{2})$';

/** Job ids are deterministic digests or upstream event ids: printable, no spaces, bounded. */
export const JOB_ID = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$';

const scalarMap = {
  type: 'object',
  maxProperties: 200,
  propertyNames: { type: 'string', minLength: 1, maxLength: 128 },
  additionalProperties: { type: ['string', 'number', 'boolean'] },
} as const;

/**
 * The job schema. The record is closed (only contract fields reach the CRM); the
 * envelope tolerates fields a later producer may add, but `v` and `kind` are exact.
 */
export const jobSchema = {
  type: 'object',
  required: ['v', 'kind', 'jobId', 'source', 'enqueuedAt', 'record'],
  properties: {
    v: { const: 1 },
    kind: { const: 'crm.upsert' },
    jobId: { type: 'string', pattern: JOB_ID },
    source: { enum: [...JOB_SOURCES] },
    enqueuedAt: { type: 'string', pattern: ISO_DATE_TIME },
    record: {
      type: 'object',
      required: ['externalId', 'lastInteraction', 'sourceUpdatedAt'],
      additionalProperties: false,
      properties: {
        externalId: { type: 'string', minLength: 1, maxLength: 256 },
        emailHash: { type: 'string', pattern: '^[a-f0-9]{64}$' },
        phoneHash: { type: 'string', pattern: '^[a-f0-9]{64}$' },
        consentFlags: scalarMap,
        attributes: scalarMap,
        channelContext: scalarMap,
        lastInteraction: { type: 'string', pattern: ISO_DATE_TIME },
        sourceUpdatedAt: { type: 'string', pattern: ISO_DATE_TIME },
      },
    },
  },
} as const;

