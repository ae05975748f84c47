/**
 * A randomized model of the CRM sync (fast-check): jobs for a few records arrive in batches
 * of random sizes, several invocations run at once with their state-table calls and CRM
 * requests interleaved in every order the scheduler picks, the CRM goes down or applies a
 * chunk and loses the answer, SQS redelivers acknowledged messages, moves messages past
 * maxReceiveCount to the DLQ, and the DLQ is redriven. The real processor, record versions
 * (on the in-memory state table) and merging run throughout.
 *
 * Jobs carry random subsets of the fields (hashes, consent, attributes, channel context), as
 * prefill, webhook and events jobs do, and the CRM merges consent and attributes key by key
 * and replaces the channel context whole, as the `rest` CRM does (the providers, which store
 * one property per key, then hold the same values). Field by field: the CRM never receives a field older than the one it holds
 * (nor an older `lastInteraction` or `sourceUpdatedAt`), and it ends with every field at the
 * newest accepted job that carried it (no accepted field lost).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCrmBreaker, type BatchUpsertOutcome } from '#lib/crm';
import { buildJob, deterministicJobId, toMessageBody, type CrmRecord, type CrmSyncJob } from '#lib/jobs';
import type { StateTable } from '#lib/state';
import { MemoryStateTable } from '#lib/state/table.ts';
import { RequestRateLimiter } from '#lib/sync/rate-limit.ts';
import { RecordVersions, versionOrder } from '#lib/sync/versions.ts';
import { processBatch, type SyncPorts } from '#lib/sync/processor.ts';
import { isFinal, type ChunkLedger } from '#lib/sync/chunks.ts';
import { jobRecord } from '#test/support/factories.ts';

const START = Date.parse('2026-03-01T10:00:00.000Z');
const MAX_RECEIVES = 3;
type Behaviour = 'ok' | 'down' | 'lost';

interface Message {
  messageId: string;
  job: CrmSyncJob;
  receiveCount: number;
}

/** The fields a job may carry (besides `lastInteraction`, which every job carries). */
const FIELDS = ['emailHash', 'phoneHash', 'consent.marketing', 'attr.tier', 'attr.first_name', 'channel.conversationId', 'channel.originPage'] as const;
type Field = (typeof FIELDS)[number];

/** Job `n`'s value of a field: it names the job, so the CRM can tell which job wrote what. */
const valueOf = (field: Field, n: number): string => (field.endsWith('Hash') ? n.toString(16).padStart(64, '0') : `job-${n}`);
const jobNumberOf = (value: unknown): number => {
  // A channel context is written whole by one job: each of its values names that job.
  if (typeof value === 'object' && value !== null) return jobNumberOf(Object.values(value)[0]);
  return typeof value === 'string' && value.startsWith('job-') ? Number(value.slice(4)) : parseInt(String(value), 16);
};

const jobOf = (id: number, second: number, n: number, fields: readonly Field[]): CrmSyncJob => {
  const at = new Date(START - 3_600_000 + second * 1000).toISOString();
  const record: CrmRecord = { externalId: `guest-${id}`, lastInteraction: at, sourceUpdatedAt: at };
  for (const field of fields) {
    const value = valueOf(field, n);
    if (field === 'emailHash' || field === 'phoneHash') record[field] = value;
    else {
      const [map, key] = field.split('.') as [string, string];
      const name = map === 'consent' ? 'consentFlags' : map === 'attr' ? 'attributes' : 'channelContext';
      record[name] = { ...record[name], [key]: value };
    }
  }
  return buildJob('guest', deterministicJobId('guest', record), record, new Date(START));
};

/** A record's field values by path (consent and attribute keys flattened; the channel context whole). */
function flatFields(record: CrmRecord): Map<string, unknown> {
  const values = new Map<string, unknown>();
  if (record.emailHash !== undefined) values.set('emailHash', record.emailHash);
  if (record.phoneHash !== undefined) values.set('phoneHash', record.phoneHash);
  for (const [map, prefix] of [['consentFlags', 'consent'], ['attributes', 'attr']] as const) {
    for (const [key, value] of Object.entries(record[map] ?? {})) values.set(`${prefix}.${key}`, value);
  }
  if (record.channelContext !== undefined) values.set('channelContext', record.channelContext);
  return values;
}

/** Finished chunks in memory, with the semantics of the Powertools records (in progress until the invocation's end). */
function memoryLedger(now: () => number): (untilMs: number) => ChunkLedger {
  const records = new Map<string, { done?: Extract<BatchUpsertOutcome, { kind: 'ok' }>['results']; until: number }>();
  return (untilMs) => ({
    async once(key, send) {
      const record = records.get(key);
      if (record?.done) return { kind: 'replayed', results: record.done };
      if (record && record.until > now()) return { kind: 'in_flight' };
      records.set(key, { until: untilMs });
      const outcome = await send();
      if (isFinal(outcome)) records.set(key, { done: outcome.results, until: untilMs });
      else records.delete(key);
      return { kind: 'sent', outcome };
    },
  });
}

describe('never back in time, under batch splits, redeliveries, interleavings and DLQ redrives', () => {
  it('ends with every CRM field at the newest job accepted that carried it, and never sends a field older than the CRM holds', async () => {
    let drained = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(fc.record({ id: fc.integer({ min: 0, max: 2 }), second: fc.integer({ min: 0, max: 6 }), fields: fc.subarray([...FIELDS]) }), { minLength: 1, maxLength: 10 }),
        fc.array(fc.constantFrom<Behaviour>('ok', 'ok', 'down', 'lost'), { maxLength: 25 }),
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.boolean(), { maxLength: 30 }),
        async (s, specs, behaviours, splits, duplicates) => {
          // Prepare: the jobs, the queue, the CRM and the state table
          const clock = { now: START };
          const jobs = specs.map((spec, n) => jobOf(spec.id, spec.second, n, spec.fields));
          const versionOfJob = jobs.map((job) => versionOrder(job.record.sourceUpdatedAt, job.jobId));
          let queue: Message[] = jobs.map((job, n) => ({ messageId: `m-${n}`, job, receiveCount: 0 }));
          let dlq: Message[] = [];
          const acked: Message[] = [];
          /** The CRM, field by field: each field's value, and the version of the job that wrote it. */
          const crm = new Map<string, { fields: Map<string, { value: unknown; version: string }>; lastInteraction: string; sourceUpdatedAt: string }>();
          const backInTime: string[] = [];
          let call = 0;
          const crmUpsert = s.scheduleFunction(async function crmCall(records: CrmRecord[]): Promise<BatchUpsertOutcome> {
            const behaviour = behaviours[call] ?? 'ok';
            call += 1;
            if (behaviour === 'down') return { kind: 'transient', status: 503, reason: 'the CRM answered 503' };
            for (const record of records) {
              const held = crm.get(record.externalId) ?? { fields: new Map(), lastInteraction: record.lastInteraction, sourceUpdatedAt: record.sourceUpdatedAt };
              for (const [path, value] of flatFields(record)) {
                const version = versionOfJob[jobNumberOf(value)] as string;
                const before = held.fields.get(path);
                if (before && version < before.version) backInTime.push(`${record.externalId} ${path}: ${version} after ${before.version}`);
                held.fields.set(path, { value, version });
              }
              for (const stamp of ['lastInteraction', 'sourceUpdatedAt'] as const) {
                if (Date.parse(record[stamp]) < Date.parse(held[stamp])) backInTime.push(`${record.externalId} ${stamp}: ${record[stamp]} after ${held[stamp]}`);
                held[stamp] = record[stamp];
              }
              crm.set(record.externalId, held);
            }
            if (behaviour === 'lost') return { kind: 'transient', reason: 'the CRM did not answer in time', timedOut: true };
            return { kind: 'ok', status: 200, replayed: false, results: records.map((record) => ({ externalId: record.externalId, status: 'updated' as const })) };
          });
          const memory = new MemoryStateTable(() => clock.now);
          const table: StateTable = {
            get: s.scheduleFunction(async function get(pk: string) {
              return memory.get(pk);
            }) as StateTable['get'],
            getMany: s.scheduleFunction(async function getMany(pks: readonly string[]) {
              return memory.getMany(pks);
            }) as StateTable['getMany'],
            put: s.scheduleFunction(async function put(item: Parameters<StateTable['put']>[0], condition?: Parameters<StateTable['put']>[1]) {
              return memory.put(item, condition);
            }),
            putEach: s.scheduleFunction(async function putEach(writes: Parameters<StateTable['putEach']>[0]) {
              return memory.putEach(writes);
            }) as StateTable['putEach'],
            delete: (pk, condition) => memory.delete(pk, condition),
            queryIndex: (query) => memory.queryIndex(query),
          };
          const ledger = memoryLedger(() => clock.now);
          let duplicate = 0;

          // Act: rounds of receives until the queue and the DLQ are empty
          for (let round = 0; round < 14 && (queue.length > 0 || dlq.length > 0); round += 1) {
            if (queue.length === 0 || round % 4 === 3) {
              // The DLQ redrive: messages start over as new ones.
              queue.push(...dlq.map((message) => ({ ...message, receiveCount: 0 })));
              dlq = [];
            }
            // SQS redelivers some acknowledged messages (at-least-once delivery).
            for (const message of acked) if (duplicates[duplicate++ % Math.max(1, duplicates.length)]) queue.push({ ...message });
            const received = queue.map((message) => ({ ...message, receiveCount: message.receiveCount + 1 }));
            queue = [];
            const batches: Message[][] = [];
            for (let start = 0, i = 0; start < received.length; i += 1) {
              const size = splits[(round + i) % splits.length] as number;
              batches.push(received.slice(start, start + size));
              start += size;
            }
            const invocationEnd = clock.now + 20_000;
            const runs = batches.map((batch, index) => {
              const ports: SyncPorts = {
                upsert: (records) => crmUpsert(records),
                deadLetter: async () => new Set(),
                limiter: new RequestRateLimiter(1000, { now: () => clock.now, sleep: async (ms) => void (clock.now += ms) }),
                breaker: createCrmBreaker({ halfOpenAfterMs: 30_000 }),
                remainingMs: () => Math.max(0, invocationEnd - clock.now),
                sleep: async (ms) => void (clock.now += ms),
                now: () => clock.now,
                random: () => 0.5,
                versions: new RecordVersions(table, () => clock.now),
                chunks: ledger(invocationEnd + 2_000),
                invocationId: `round-${round}-container-${index}`,
              };
              return processBatch(
                batch.map((message) => jobRecord(message.job, message.messageId, message.receiveCount)),
                { batchSize: 2, maxReceiveCount: MAX_RECEIVES, maxAttemptsPerChunk: 2, backoffBaseMs: 10, backoffCapMs: 20 },
                ports,
              ).then((report) => ({ batch, report }));
            });
            const all = Promise.all(runs);
            await s.waitFor(all);
            for (const { batch, report } of await all) {
              expect(report.unexpectedError).toBeUndefined();
              const failed = new Set(report.batchItemFailures.map((failure) => failure.itemIdentifier));
              const lettered = new Set(Object.values(report.deadLetteredJobIds).flat());
              for (const message of batch) {
                if (lettered.has(message.job.jobId)) dlq.push(message);
                else if (!failed.has(message.messageId)) acked.push(message);
                else if (message.receiveCount >= MAX_RECEIVES) dlq.push(message);
                else queue.push(message);
              }
            }
            clock.now = invocationEnd + 60_000;
          }

          // Assess
          expect(backInTime).toEqual([]);
          if (queue.length === 0 && dlq.length === 0) {
            drained += 1;
            // Per field: the newest accepted job that carried it, and its value in the CRM.
            const newest = new Map<string, { version: string; value: unknown }>();
            const latest = new Map<string, string>();
            jobs.forEach((job, n) => {
              const version = versionOfJob[n] as string;
              for (const [path, value] of flatFields(job.record)) {
                const key = `${job.record.externalId} ${path}`;
                if ((newest.get(key)?.version ?? '') < version) newest.set(key, { version, value });
              }
              const at = latest.get(job.record.externalId);
              if (at === undefined || Date.parse(job.record.lastInteraction) > Date.parse(at)) latest.set(job.record.externalId, job.record.lastInteraction);
            });
            for (const [key, { value }] of newest) {
              const [externalId, path] = key.split(' ') as [string, string];
              expect({ key, value: crm.get(externalId)?.fields.get(path)?.value }).toEqual({ key, value });
            }
            for (const [externalId, at] of latest) {
              expect(crm.get(externalId)?.lastInteraction).toBe(at);
              expect(crm.get(externalId)?.sourceUpdatedAt).toBe(at);
            }
          }
        },
      ),
      { numRuns: 100 },
    );
    // Most runs drain the queue and the DLQ, so the end state is checked, not only the sends.
    expect(drained).toBeGreaterThan(50);
  }, 120_000);
});
