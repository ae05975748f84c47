/**
 * CRM sync jobs (docs/api.md section 5): the one message shape every intake route produces
 * and the worker consumes, with deterministic ids so a logical change always has the
 * same job id, however often it is delivered.
 */
import { createHash } from 'node:crypto';

/** Where a job came from. */
export type JobSource = 'prefill' | 'webhook' | 'guest' | 'prechat' | 'event';

/** Scalar values a CRM record carries in its flat maps. */
export type JobScalar = string | number | boolean;

/** The CRM record a job upserts (docs/api.md sections 5 and 6). No plaintext identifiers. */
export interface CrmRecord {
  externalId: string;
  emailHash?: string;
  phoneHash?: string;
  consentFlags?: Record<string, JobScalar>;
  attributes?: Record<string, JobScalar>;
  channelContext?: Record<string, JobScalar>;
  lastInteraction: string;
  sourceUpdatedAt: string;
}

/** One CRM sync job, as sent on the queue. */
export interface CrmSyncJob {
  v: 1;
  kind: 'crm.upsert';
  jobId: string;
  source: JobSource;
  enqueuedAt: string;
  record: CrmRecord;
}

/** The sources, for validation (`event`: Genesys conversation events, docs/api.md section 3). */
export const JOB_SOURCES: readonly JobSource[] = ['prefill', 'webhook', 'guest', 'prechat', 'event'];

/** JSON with object keys sorted, so equal documents hash identically whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v as Record<string, unknown>).sort().map((k) => [k, (v as Record<string, unknown>)[k]]))
      : v,
  );
}

/**
 * A job id derived from what the change is, never from when it was sent: the same
 * source and content always give the same id (`<source>-<32 hex>`).
 */
export function deterministicJobId(source: JobSource, content: unknown): string {
  const digest = createHash('sha256').update(`${source}\n${canonicalJson(content)}`).digest('hex');
  return `${source}-${digest.slice(0, 32)}`;
}

/** Builds a job around a record; `jobId` must come from `deterministicJobId`. */
export function buildJob(source: JobSource, jobId: string, record: CrmRecord, enqueuedAt: Date = new Date()): CrmSyncJob {
  return { v: 1, kind: 'crm.upsert', jobId, source, enqueuedAt: enqueuedAt.toISOString(), record };
}
