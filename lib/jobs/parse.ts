/**
 * Reading a CRM sync job back off the queue (docs/api.md section 5). The worker trusts
 * nothing it receives: a body that is not a valid version-1 `crm.upsert` job is a
 * permanent failure, reported with a reason that names the failing field and never
 * repeats a value from the message.
 */
import { schemaCheck } from '#lib/validation';
import type { CrmSyncJob } from './job.ts';
import { JOB_ID } from './job-schema.ts';
import { validateJob } from './schema.validators.js';

const checkJob = schemaCheck<CrmSyncJob>(validateJob);

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
