/**
 * Reading a CRM sync job back off the queue (contract section 3). The worker trusts
 * nothing it receives: a body that is not a valid version-1 `crm.upsert` job is a
 * permanent failure, reported with a reason that names the failing field and never
 * repeats a value from the message.
 */
import { compileSchema } from '#lib/validation/compile';
import { JOB_SOURCES, type CrmSyncJob } from './job.ts';

/** ISO 8601 date-time with seconds optional and a zone, as `Date#toISOString()` writes it. */
const ISO_DATE_TIME = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(?::\\d{2}(?:\\.\\d{1,9})?)?(?:Z|[+-]\\d{2}:\\d{2})$';

/** Job ids are deterministic digests or upstream event ids: printable, no spaces, bounded. */
const JOB_ID = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$';

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
const jobSchema = {
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

const checkJob = compileSchema<CrmSyncJob>(jobSchema);

/** The failure code every unreadable or invalid message is dead-lettered with. */
export const INVALID_JOB_CODE = 'INVALID_JOB';

/** A message body read as a job, or why it is not one (with its job id when readable). */
export type ParsedJob =
  | { ok: true; job: CrmSyncJob }
  | { ok: false; code: typeof INVALID_JOB_CODE; reason: string; jobId?: string };

const readableJobId = (value: unknown): string | undefined => {
  if (typeof value !== 'object' || value === null) return undefined;
  const jobId = (value as Record<string, unknown>)['jobId'];
  return typeof jobId === 'string' && new RegExp(JOB_ID).test(jobId) ? jobId : undefined;
};

/**
 * Parses and validates one SQS message body as a CRM sync job. Never throws. The reason
 * lists the failing paths (`/record/sourceUpdatedAt must match pattern ...`), never values.
 */
export function parseJob(body: string): ParsedJob {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { ok: false, code: INVALID_JOB_CODE, reason: 'the message body is not valid JSON' };
  }
  const jobId = readableJobId(parsed);
  const withId = jobId === undefined ? {} : { jobId };
  const check = checkJob(parsed);
  if (!check.ok) {
    const reason = check.errors.slice(0, 5).map((error) => `${error.path} ${error.message}`).join('; ');
    return { ok: false, code: INVALID_JOB_CODE, reason: `not a valid v1 crm.upsert job: ${reason}`, ...withId };
  }
  const { record } = check.value;
  for (const field of ['lastInteraction', 'sourceUpdatedAt', 'enqueuedAt'] as const) {
    const value = field === 'enqueuedAt' ? check.value.enqueuedAt : record[field];
    if (Number.isNaN(Date.parse(value))) {
      const path = field === 'enqueuedAt' ? '/enqueuedAt' : `/record/${field}`;
      return { ok: false, code: INVALID_JOB_CODE, reason: `not a valid v1 crm.upsert job: ${path} is not a real date-time`, ...withId };
    }
  }
  return { ok: true, job: check.value };
}
