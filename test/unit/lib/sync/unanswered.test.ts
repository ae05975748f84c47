/**
 * Never twice, for CRMs without idempotency keys (HubSpot, Salesforce, Dynamics): a send
 * whose answer never came may have been applied, so before the worker sends that very
 * version again it reads what the CRM holds, and a record the CRM already holds as it
 * would be sent is confirmed instead of written a second time. A read that fails never
 * costs a job: the record is then sent as before.
 */
import { describe, expect, it } from 'vitest';
import { createCrmBreaker, type BatchUpsertOutcome } from '#lib/crm';
import { canonicalJson, type CrmRecord } from '#lib/jobs';
import { MemoryStateTable } from '#lib/state/table.ts';
import { RequestRateLimiter } from '#lib/sync/rate-limit.ts';
import { RecordVersions, versionOrder } from '#lib/sync/versions.ts';
import { processBatch, type HeldOutcome, type SyncPorts } from '#lib/sync/processor.ts';
import { job, jobRecord } from '#test/support/factories.ts';

const NOW = Date.parse('2026-03-01T10:00:00.000Z');
const at = (second: number): string => `2026-03-01T09:00:${String(second).padStart(2, '0')}.000Z`;
const settings = { batchSize: 50, maxReceiveCount: 5, maxAttemptsPerChunk: 3 };
const LOST: BatchUpsertOutcome = { kind: 'transient', reason: 'the CRM did not answer in time', timedOut: true };

/**
 * The processor's ports over a CRM without idempotency keys that keeps every write: `lose`
 * says which upsert calls (1-based) lose their answer after the CRM applied `applies` of
 * their records; `read` can replace the CRM's answer to a read.
 */
function harness(options: { lose: (call: number) => boolean; applies?: (record: CrmRecord) => boolean; read?: () => HeldOutcome }) {
  const clock = { time: NOW };
  const crm = new Map<string, { values: CrmRecord; writes: number }>();
  const upserts: string[][] = [];
  const reads: string[][] = [];
  const versions = new RecordVersions(new MemoryStateTable(() => clock.time), () => clock.time);
  const ports: SyncPorts = {
    upsert: async (records) => {
      upserts.push(records.map((record) => record.externalId));
      for (const record of records) {
        if (!(options.applies?.(record) ?? true)) continue;
        const stored = crm.get(record.externalId);
        crm.set(record.externalId, { values: { ...stored?.values, ...record }, writes: (stored?.writes ?? 0) + 1 });
      }
      if (options.lose(upserts.length)) return LOST;
      return { kind: 'ok', status: 200, replayed: false, results: records.map((record) => ({ externalId: record.externalId, status: 'updated' as const })) };
    },
    held: async (records) => {
      reads.push(records.map((record) => record.externalId));
      if (options.read) return options.read();
      const held = records.filter((record) => {
        const stored = crm.get(record.externalId)?.values;
        return stored !== undefined && Object.entries(record).every(([key, value]) => canonicalJson(stored[key as keyof CrmRecord]) === canonicalJson(value));
      });
      return { kind: 'ok', held: new Set(held.map((record) => record.externalId)) };
    },
    deadLetter: async () => new Set(),
    limiter: new RequestRateLimiter(1000, { now: () => clock.time, sleep: async (ms) => void (clock.time += ms) }),
    breaker: createCrmBreaker({ halfOpenAfterMs: 30_000 }),
    remainingMs: () => NOW + 25_000 - clock.time,
    sleep: async (ms) => void (clock.time += ms),
    now: () => clock.time,
    random: () => 0.5,
    versions,
    invocationId: 'invocation-1',
  };
  const writes = (externalId: string): number => crm.get(externalId)?.writes ?? 0;
  return { ports, crm, upserts, reads, versions, writes, clock };
}

describe('a send whose answer was lost after the CRM applied it', () => {
  it('is not written again on redelivery: the CRM is read, the records it holds are acknowledged as unchanged and their versions advance', async () => {
    // Prepare: the CRM applies the chunk, its answer never comes (the function times out)
    const h = harness({ lose: (call) => call === 1 });
    const jobs = ['guest-1', 'guest-2', 'guest-3'].map((externalId) => job({ externalId, at: at(20) }));
    const first = await processBatch(
      jobs.map((job) => jobRecord(job)),
      { ...settings, maxAttemptsPerChunk: 1 },
      h.ports,
    );
    expect(first.batchItemFailures).toHaveLength(3);

    // Act: SQS redelivers the batch to the next invocation
    h.ports.invocationId = 'invocation-2';
    const again = await processBatch(
      jobs.map((job) => jobRecord(job, undefined, 2)),
      settings,
      h.ports,
    );

    // Assess
    expect(again.batchItemFailures).toEqual([]);
    expect(h.upserts).toHaveLength(1);
    expect(h.reads).toEqual([['guest-1', 'guest-2', 'guest-3']]);
    expect(jobs.map((job) => h.writes(job.record.externalId))).toEqual([1, 1, 1]);
    expect(again.summary.upserted.unchanged).toBe(3);
    for (const job of jobs) expect(await h.versions.applied(job.record.externalId)).toBe(versionOrder(job.record.sourceUpdatedAt, job.jobId));
  });

  it('sends only the records the CRM does not hold, in one read for the chunk', async () => {
    // Prepare: of the lost send, the CRM applied guest-1 only
    const h = harness({ lose: (call) => call === 1, applies: (record) => record.externalId === 'guest-1' || h.upserts.length > 1 });
    const jobs = ['guest-1', 'guest-2'].map((externalId) => job({ externalId, at: at(20) }));
    await processBatch(
      jobs.map((job) => jobRecord(job)),
      { ...settings, maxAttemptsPerChunk: 1 },
      h.ports,
    );

    // Act
    h.ports.invocationId = 'invocation-2';
    const again = await processBatch(
      jobs.map((job) => jobRecord(job, undefined, 2)),
      settings,
      h.ports,
    );

    // Assess
    expect(again.batchItemFailures).toEqual([]);
    expect(h.reads).toEqual([['guest-1', 'guest-2']]);
    expect(h.upserts).toEqual([['guest-1', 'guest-2'], ['guest-2']]);
    expect([h.writes('guest-1'), h.writes('guest-2')]).toEqual([1, 1]);
  });

  it('is not written again by a retry within the same invocation either', async () => {
    // Prepare
    const h = harness({ lose: (call) => call === 1 });
    const guest = job({ externalId: 'guest-1', at: at(20) });

    // Act
    const report = await processBatch([jobRecord(guest)], settings, h.ports);

    // Assess
    expect(report.batchItemFailures).toEqual([]);
    expect(h.upserts).toHaveLength(1);
    expect(h.reads).toHaveLength(1);
    expect(h.writes('guest-1')).toBe(1);
    expect(await h.versions.applied('guest-1')).toBe(versionOrder(guest.record.sourceUpdatedAt, guest.jobId));
  });

  it('is sent again as before when the read fails, so no job is lost to avoid a duplicate', async () => {
    // Prepare
    const h = harness({ lose: (call) => call === 1, read: () => ({ kind: 'failed', reason: 'HubSpot answered 503' }) });
    const guest = job({ externalId: 'guest-1', at: at(20) });
    await processBatch([jobRecord(guest)], { ...settings, maxAttemptsPerChunk: 1 }, h.ports);

    // Act
    h.ports.invocationId = 'invocation-2';
    const again = await processBatch([jobRecord(guest, undefined, 2)], settings, h.ports);

    // Assess
    expect(again.batchItemFailures).toEqual([]);
    expect(h.reads).toHaveLength(1);
    expect(h.upserts).toHaveLength(2);
    expect(h.crm.get('guest-1')?.values.attributes).toEqual(guest.record.attributes);
    expect(await h.versions.applied('guest-1')).toBe(versionOrder(guest.record.sourceUpdatedAt, guest.jobId));
  });

  it('reads nothing for a first send or a refused one (only an unanswered send may have been applied)', async () => {
    // Prepare: a 503 after which the CRM holds nothing would be read; a 429 is not
    const h = harness({ lose: () => false });
    let calls = 0;
    const upsert = h.ports.upsert;
    h.ports.upsert = async (records, key, timeoutMs) => {
      calls += 1;
      return calls === 1 ? { kind: 'transient', status: 429, reason: 'rate limited', retryAfterMs: 100 } : upsert(records, key, timeoutMs);
    };

    // Act
    const report = await processBatch([jobRecord(job({ externalId: 'guest-1', at: at(20) }))], settings, h.ports);

    // Assess
    expect(report.batchItemFailures).toEqual([]);
    expect(h.reads).toEqual([]);
    expect(h.writes('guest-1')).toBe(1);
  });

  it('leaves no uncertain version after a refusal (429), so its redelivery is sent without a read', async () => {
    // Prepare: the CRM refuses the first send (nothing applied)
    const h = harness({ lose: () => false });
    const upsert = h.ports.upsert;
    let calls = 0;
    h.ports.upsert = async (records, key, timeoutMs) => ((calls += 1) === 1 ? { kind: 'transient', status: 429, reason: 'rate limited', retryAfterMs: 100 } : upsert(records, key, timeoutMs));
    const guest = job({ externalId: 'guest-1', at: at(20) });
    const first = await processBatch([jobRecord(guest)], { ...settings, maxAttemptsPerChunk: 1 }, h.ports);

    // Act
    h.ports.invocationId = 'invocation-2';
    const again = await processBatch([jobRecord(guest, undefined, 2)], settings, h.ports);

    // Assess
    expect(first.batchItemFailures).toHaveLength(1);
    expect((await h.versions.view('guest-1')).uncertainFields).toEqual({});
    expect(again.batchItemFailures).toEqual([]);
    expect(h.reads).toEqual([]);
    expect(h.writes('guest-1')).toBe(1);
  });
});
