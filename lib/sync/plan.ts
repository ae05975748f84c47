/**
 * How a batch of jobs becomes CRM requests (pure): coalescing by record, chunking, and
 * the idempotency key that makes a redelivered chunk the same request as before.
 */
import { createHash } from 'node:crypto';
import { canonicalJson, type CrmRecord, type CrmSyncJob } from '#lib/jobs';
import { versionOrder } from './versions.ts';

/** A valid job as it came off the queue. */
export interface QueuedJob {
  messageId: string;
  /** SQS `ApproximateReceiveCount` (1 on the first delivery). */
  receiveCount: number;
  job: CrmSyncJob;
}

/** One record to upsert: the newest job for an external id, and the older ones it replaces. */
export interface CoalescedRecord {
  externalId: string;
  winner: QueuedJob;
  /** Older (or duplicate) jobs for the same external id; they share the winner's fate. */
  superseded: QueuedJob[];
  /** What is sent: every job's fields merged, oldest first, so a job never erases fields it does not carry. */
  record: CrmRecord;
  /** The newest version among the jobs (`versionOrder` of the winner). */
  version: string;
}

/** A job's version: `(sourceUpdatedAt, jobId)` as one string that sorts like the pair. */
export function versionOf(queued: QueuedJob): string {
  return versionOrder(queued.job.record.sourceUpdatedAt, queued.job.jobId);
}

/** The maps merged key by key; `channelContext` is one field (the `rest` CRM replaces it whole). */
const MAPS = ['consentFlags', 'attributes'] as const;

/**
 * Merges records of one external id field by field, oldest first: each field (each key of
 * consentFlags and attributes, and channelContext as a whole) takes the value of the
 * newest record that carries it; a field no record carries stays absent, so the CRM keeps
 * its own value. channelContext is one field because the contract's `rest` CRM keeps
 * top-level fields whole: sending some of its keys would erase the others there.
 */
export function mergeRecords(oldestFirst: readonly CrmRecord[]): CrmRecord {
  const [first, ...rest] = oldestFirst;
  if (!first) throw new RangeError('mergeRecords needs at least one record');
  const merged: CrmRecord = structuredClone(first);
  for (const record of rest) {
    merged.lastInteraction = record.lastInteraction;
    merged.sourceUpdatedAt = record.sourceUpdatedAt;
    if (record.emailHash !== undefined) merged.emailHash = record.emailHash;
    if (record.phoneHash !== undefined) merged.phoneHash = record.phoneHash;
    for (const map of MAPS) {
      const values = record[map];
      if (values !== undefined) merged[map] = { ...(merged[map] ?? {}), ...values };
    }
    if (record.channelContext !== undefined) merged.channelContext = { ...record.channelContext };
  }
  return merged;
}

/** The path prefix of each map's keys in the field versions (`attr.tier`). */
const MAP_PATHS = { consentFlags: 'consent', attributes: 'attr' } as const;

/**
 * The fields a record carries, as the paths the record versions keep: `emailHash`,
 * `phoneHash`, `lastInteraction`, one per map key (`consent.<k>`, `attr.<k>`), and
 * `channelContext` (whole). `sourceUpdatedAt` is the record's version, not a field.
 */
export function fieldPaths(record: CrmRecord): string[] {
  const paths: string[] = ['lastInteraction'];
  if (record.emailHash !== undefined) paths.push('emailHash');
  if (record.phoneHash !== undefined) paths.push('phoneHash');
  for (const map of MAPS) for (const key of Object.keys(record[map] ?? {})) paths.push(`${MAP_PATHS[map]}.${key}`);
  if (record.channelContext !== undefined) paths.push('channelContext');
  return paths;
}

/** The record with only the fields `keep` names (its id, `lastInteraction` and `sourceUpdatedAt` always stay). */
export function pickFields(record: CrmRecord, keep: ReadonlySet<string>): CrmRecord {
  const picked: CrmRecord = { externalId: record.externalId, lastInteraction: record.lastInteraction, sourceUpdatedAt: record.sourceUpdatedAt };
  if (record.emailHash !== undefined && keep.has('emailHash')) picked.emailHash = record.emailHash;
  if (record.phoneHash !== undefined && keep.has('phoneHash')) picked.phoneHash = record.phoneHash;
  for (const map of MAPS) {
    const values = record[map];
    if (values === undefined) continue;
    const entries = Object.entries(values).filter(([key]) => keep.has(`${MAP_PATHS[map]}.${key}`));
    // An empty map carries no field and stays as it came.
    if (entries.length > 0 || Object.keys(values).length === 0) picked[map] = Object.fromEntries(entries);
  }
  if (record.channelContext !== undefined && keep.has('channelContext')) picked.channelContext = record.channelContext;
  return picked;
}

/** The later of two ISO date-times (the first on a tie). */
export function laterTime(a: string, b: string | undefined): string {
  return b === undefined || Date.parse(a) >= Date.parse(b) ? a : b;
}

const time = (iso: string): number => Date.parse(iso);

/**
 * Orders two jobs for the same record: by `sourceUpdatedAt`, then job id (docs/api.md
 * section 5: ties break by job id, as the stored versions do), then message id, so the
 * winner never depends on the order SQS delivered them in or how they were batched.
 * Positive when `a` is newer.
 */
export function compareJobs(a: QueuedJob, b: QueuedJob): number {
  return (
    time(a.job.record.sourceUpdatedAt) - time(b.job.record.sourceUpdatedAt) ||
    (a.job.jobId < b.job.jobId ? -1 : a.job.jobId > b.job.jobId ? 1 : 0) ||
    (a.messageId < b.messageId ? -1 : a.messageId > b.messageId ? 1 : 0)
  );
}

/**
 * One entry per external id, the newest job winning (docs/api.md section 5), sorted by
 * external id so the same set of jobs always yields the same chunks.
 */
export function coalesce(jobs: readonly QueuedJob[]): CoalescedRecord[] {
  const groups = new Map<string, QueuedJob[]>();
  for (const queued of jobs) {
    const id = queued.job.record.externalId;
    const group = groups.get(id);
    if (group) group.push(queued);
    else groups.set(id, [queued]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([externalId, group]) => {
      const ordered = [...group].sort((a, b) => compareJobs(b, a));
      const [winner, ...superseded] = ordered as [QueuedJob, ...QueuedJob[]];
      return {
        externalId,
        winner,
        superseded,
        record: mergeRecords([...ordered].reverse().map((queued) => queued.job.record)),
        version: versionOf(winner),
      };
    });
}

/** Consecutive slices of at most `size` items (size >= 1), in order. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError('chunk size must be a positive integer');
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

/** The record as sent: keys in canonical order, so equal content is always the same bytes. */
export function outgoingRecord(record: CrmRecord): CrmRecord {
  return JSON.parse(canonicalJson(record)) as CrmRecord;
}

/**
 * The chunk's idempotency key, derived from the job ids it carries and their records'
 * content (never the clock or randomness): the same jobs in any order give the same key,
 * any other set a different one, and a key never stands for two different bodies (which
 * the CRM would refuse with 422).
 */
export function idempotencyKey(entries: ReadonlyArray<{ jobId: string; record: CrmRecord }>): string {
  const lines = entries
    .map(({ jobId, record }) => `${jobId} ${createHash('sha256').update(canonicalJson(record)).digest('hex')}`)
    .sort();
  return `crm-sync-${createHash('sha256').update(lines.join('\n')).digest('hex')}`;
}
