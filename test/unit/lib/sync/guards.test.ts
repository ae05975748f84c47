/**
 * The worker's guards as a user of the CRM sees them: records never go back in time, a
 * chunk the CRM already applied is not sent again, and each provider failure kind lands on
 * the right path (pause until the quota resets, slow down, dead-letter a lost scope).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCrmBreaker, type BatchUpsertOutcome } from '#lib/crm';
import type { CallFailure } from '#lib/crm/adapter.ts';
import { buildJob, type CrmRecord } from '#lib/jobs';
import { DynamoStateTable, type StateTable } from '#lib/state';
import { MemoryStateTable } from '#lib/state/table.ts';
import type { OutageSignal } from '#lib/sync/outage.ts';
import type { DeadLetter } from '#lib/sync/dead-letter.ts';
import { toBatchOutcome } from '#lib/sync/crm-port.ts';
import { RequestRateLimiter } from '#lib/sync/rate-limit.ts';
import { RecordVersions, versionOrder, type VersionItem } from '#lib/sync/versions.ts';
import { PERMISSION_DENIED_CODE, processBatch, type SyncPorts } from '#lib/sync/processor.ts';
import { dynamoPersistence, powertoolsChunkLedger } from '#lib/sync/chunks.ts';
import { startEmbeddedDynamoDb, type EmbeddedDynamoDb } from '#local/dynamodb.ts';
import { job, jobRecord } from '#test/support/factories.ts';

const TABLE = { logicalId: 'StateTable', tableName: 'unit-guards', keySchema: [{ AttributeName: 'pk', KeyType: 'HASH' as const }], attributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' as const }], globalSecondaryIndexes: [] };
let dynamo: EmbeddedDynamoDb;
beforeAll(async () => {
  dynamo = await startEmbeddedDynamoDb([TABLE]);
});
afterAll(async () => {
  await dynamo.close();
});

const NOW = Date.parse('2026-03-01T10:00:00.000Z');
const at = (second: number): string => `2026-03-01T09:00:${String(second).padStart(2, '0')}.000Z`;
const settings = { batchSize: 50, maxReceiveCount: 5, maxAttemptsPerChunk: 3 };

/** The processor's ports with a CRM that keeps what it is sent, merging as real CRMs do. */
function harness(options: { table?: StateTable; answer?: (records: CrmRecord[], n: number) => BatchUpsertOutcome; versions?: boolean; invocationId?: string } = {}) {
  const clock = { time: NOW };
  const crm = new Map<string, CrmRecord>();
  const calls: CrmRecord[][] = [];
  const letters: DeadLetter[] = [];
  const pauses: OutageSignal[] = [];
  const table = options.table ?? new MemoryStateTable(() => clock.time);
  const ports: SyncPorts = {
    upsert: async (records) => {
      calls.push(records);
      const answer = options.answer?.(records, calls.length);
      if (answer) return answer;
      for (const record of records) crm.set(record.externalId, { ...crm.get(record.externalId), ...record, attributes: { ...crm.get(record.externalId)?.attributes, ...record.attributes } });
      return { kind: 'ok', status: 200, replayed: false, results: records.map((record) => ({ externalId: record.externalId, status: 'updated' as const })) };
    },
    deadLetter: async (sent) => {
      letters.push(...sent);
      return new Set();
    },
    limiter: new RequestRateLimiter(1000, { now: () => clock.time, sleep: async (ms) => void (clock.time += ms) }),
    breaker: createCrmBreaker({ halfOpenAfterMs: 30_000 }),
    remainingMs: () => NOW + 25_000 - clock.time,
    sleep: async (ms) => void (clock.time += ms),
    now: () => clock.time,
    random: () => 0.5,
    pause: async (signal) => {
      pauses.push(signal);
      return clock.time + signal.pauseMs;
    },
    ...(options.versions === false ? {} : { versions: new RecordVersions(table, () => clock.time) }),
    invocationId: options.invocationId ?? 'invocation-1',
  };
  return { ports, crm, calls, letters, pauses, table, clock };
}

describe('never back in time', () => {
  it('acknowledges an older job redriven after a newer one was applied, without sending it or dead-lettering it', async () => {
    // Prepare
    const { ports, crm, calls, letters } = harness();
    const newer = job({ externalId: 'guest-1', at: at(30), attributes: { tier: 'platinum' } });
    const older = job({ externalId: 'guest-1', at: at(10), attributes: { tier: 'silver' } });
    await processBatch([jobRecord(newer)], settings, ports);

    // Act
    const report = await processBatch([jobRecord(older, 'redriven-from-dlq', 1)], settings, ports);

    // Assess
    expect(calls).toHaveLength(1);
    expect(crm.get('guest-1')?.attributes).toEqual({ tier: 'platinum' });
    expect(report.batchItemFailures).toEqual([]);
    expect(report.summary.superseded).toBe(1);
    expect(letters).toEqual([]);
  });

  it('breaks a sourceUpdatedAt tie by job id across batches, as within one', async () => {
    // Prepare
    const { ports, crm } = harness();
    const [low, high] = [job({ externalId: 'guest-1', at: at(5), attributes: { v: 'x' } }), job({ externalId: 'guest-1', at: at(5), attributes: { v: 'y' } })].sort((a, b) => (a.jobId < b.jobId ? -1 : 1)) as [ReturnType<typeof job>, ReturnType<typeof job>];

    // Act
    await processBatch([jobRecord(high)], settings, ports);
    const report = await processBatch([jobRecord(low)], settings, ports);

    // Assess
    expect(crm.get('guest-1')?.attributes).toEqual({ v: high.record.attributes?.['v'] });
    expect(report.summary.superseded).toBe(1);
  });

  it('sends the fields an older job of the same batch carries that the newest does not (field-by-field coalescing)', async () => {
    // Prepare
    const { ports, calls } = harness();
    const prefill = job({ externalId: 'session-1', at: at(1), attributes: { tier: 'gold' } });
    const webhook = job({ externalId: 'session-1', at: at(2), emailHash: null, consentFlags: null, attributes: { lastPage: '/checkout' } });

    // Act
    await processBatch([jobRecord(webhook), jobRecord(prefill)], settings, ports);

    // Assess
    expect(calls[0]?.[0]).toMatchObject({ emailHash: prefill.record.emailHash, consentFlags: prefill.record.consentFlags, attributes: { tier: 'gold', lastPage: '/checkout' }, sourceUpdatedAt: at(2) });
  });

  it('sends the hashes, consent and attributes of a prefill delayed behind a newer events job for the same session, and only the fields the newer job did not set', async () => {
    // Prepare: the events job (newer, channel context and one attribute) is applied first
    const { ports, crm, calls } = harness();
    const record = (at: string, fields: Partial<CrmRecord>): CrmRecord => ({ externalId: 'session-1', lastInteraction: at, sourceUpdatedAt: at, ...fields });
    const events = buildJob('event', 'event-job-1', record(at(30), { channelContext: { channel: 'webmessaging', conversationId: 'conv-1' }, attributes: { tier: 'platinum' } }));
    const prefill = buildJob('prefill', 'prefill-job-1', record(at(10), { emailHash: 'e'.repeat(64), phoneHash: 'f'.repeat(64), consentFlags: { marketing: true }, attributes: { tier: 'silver', first_name: 'Jane' } }));
    await processBatch([jobRecord(events, 'm-events')], settings, ports);

    // Act
    const report = await processBatch([jobRecord(prefill, 'm-prefill')], settings, ports);

    // Assess
    expect(report.batchItemFailures).toEqual([]);
    expect(report.summary.superseded).toBe(0);
    expect(crm.get('session-1')).toEqual({
      externalId: 'session-1',
      emailHash: 'e'.repeat(64),
      phoneHash: 'f'.repeat(64),
      consentFlags: { marketing: true },
      attributes: { tier: 'platinum', first_name: 'Jane' },
      channelContext: { channel: 'webmessaging', conversationId: 'conv-1' },
      lastInteraction: at(30),
      sourceUpdatedAt: at(30),
    });
    // The prefill's stale tier was never sent, nor its older times.
    expect(calls[1]).toEqual([{ externalId: 'session-1', emailHash: 'e'.repeat(64), phoneHash: 'f'.repeat(64), consentFlags: { marketing: true }, attributes: { first_name: 'Jane' }, lastInteraction: at(30), sourceUpdatedAt: at(30) }]);
  });

  it('supersedes a delayed job only when every field it carries was set by a newer applied job', async () => {
    // Prepare
    const { ports, calls } = harness();
    const record = (at: string, attributes: Record<string, string>): CrmRecord => ({ externalId: 'session-1', lastInteraction: at, sourceUpdatedAt: at, attributes });
    await processBatch([jobRecord(buildJob('prefill', 'prefill-new', record(at(30), { tier: 'gold', first_name: 'Jane' })), 'm-new')], settings, ports);

    // Act
    const report = await processBatch([jobRecord(buildJob('prefill', 'prefill-old', record(at(10), { tier: 'silver' })), 'm-old')], settings, ports);

    // Assess
    expect(calls).toHaveLength(1);
    expect(report.summary.superseded).toBe(1);
    expect(report.batchItemFailures).toEqual([]);
  });

  it('hands a record back without sending it while another invocation is sending it', async () => {
    // Prepare
    const { ports, calls, table, clock } = harness({ invocationId: 'invocation-2' });
    await new RecordVersions(table, () => clock.time).claim('guest-1', '0000000000000001#other', 'invocation-1', NOW + 20_000);
    const message = jobRecord(job({ externalId: 'guest-1', at: at(40) }), 'm-1');

    // Act
    const report = await processBatch([message], settings, ports);

    // Assess
    expect(calls).toEqual([]);
    expect(report.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
  });

  it('holds a busy record back on SQS until the claim it waits for lapses, so waiting spends no more receives', async () => {
    // Prepare: another invocation claimed guest-1 until 20 s from now
    const { ports, calls, table, clock } = harness({ invocationId: 'invocation-2' });
    await new RecordVersions(table, () => clock.time).claim('guest-1', '0000000000000001#other', 'invocation-1', NOW + 20_000);
    const holds: Array<[string[], number]> = [];
    ports.holdBack = async (messages, seconds) => void holds.push([messages.map((message) => message.messageId), seconds]);
    const message = jobRecord(job({ externalId: 'guest-1', at: at(40) }), 'm-1', 2);

    // Act
    const report = await processBatch([message], settings, ports);

    // Assess
    expect(calls).toEqual([]);
    expect(report.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
    expect(holds).toHaveLength(1);
    expect(holds[0]?.[0]).toEqual(['m-1']);
    expect(holds[0]?.[1]).toBeGreaterThanOrEqual(20);
    expect(holds[0]?.[1]).toBeLessThanOrEqual(22);
  });

  it('sends a record another invocation held in the same invocation once that claim ends, instead of handing it back until the claim would lapse', async () => {
    // Prepare: invocation-1 holds guest-1 (an older version) and finishes its batch while invocation-2 waits
    const { ports, calls, crm, table, clock } = harness({ invocationId: 'invocation-2' });
    const other = new RecordVersions(table, () => clock.time);
    const older = job({ externalId: 'guest-1', at: at(10), attributes: { tier: 'silver' } });
    await other.claim('guest-1', '0000000000000001#older', 'invocation-1', NOW + 20_000);
    const sleep = ports.sleep;
    let waited = 0;
    ports.sleep = async (ms) => {
      waited += 1;
      if (waited === 1) await other.settleMany([{ externalId: 'guest-1', confirmed: versionOrder(older.record.sourceUpdatedAt, older.jobId) }], 'invocation-1');
      return sleep(ms);
    };
    const held: number[] = [];
    ports.holdBack = async (_messages, seconds) => void held.push(seconds);
    const newer = job({ externalId: 'guest-1', at: at(40), attributes: { tier: 'gold' } });

    // Act
    const report = await processBatch([jobRecord(newer, 'm-1')], settings, ports);

    // Assess
    expect(report.batchItemFailures).toEqual([]);
    expect(held).toEqual([]);
    expect(calls).toHaveLength(1);
    expect(crm.get('guest-1')?.attributes).toEqual({ tier: 'gold' });
    expect(report.summary.upserted.updated).toBe(1);
  });

  it('hands a record back when the other claim still holds after the waits within the invocation', async () => {
    // Prepare
    const { ports, calls, table, clock } = harness({ invocationId: 'invocation-2' });
    await new RecordVersions(table, () => clock.time).claim('guest-1', '0000000000000001#other', 'invocation-1', NOW + 20_000);
    const held: number[] = [];
    ports.holdBack = async (_messages, seconds) => void held.push(seconds);

    // Act
    const report = await processBatch([jobRecord(job({ externalId: 'guest-1', at: at(40) }), 'm-1')], settings, ports);

    // Assess: handed back, invisible until the claim lapses (about 20 s from the start, less the waits)
    expect(calls).toEqual([]);
    expect(report.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
    expect(held).toHaveLength(1);
    expect(held[0]).toBeGreaterThanOrEqual(19);
    expect(held[0]).toBeLessThanOrEqual(21);
  });

  it('never dead-letters a busy record on its last receive: it starts over as a new message, delayed until the claim lapses', async () => {
    // Prepare: a dead invocation's claim on guest-1 still holds when the job is received for the last time
    const { ports, calls, table, clock, letters } = harness({ invocationId: 'invocation-2' });
    await new RecordVersions(table, () => clock.time).claim('guest-1', '0000000000000001#other', 'invocation-1', NOW + 7_000);
    const resent: Array<[string[], number]> = [];
    ports.resend = async (messages, delaySeconds) => {
      resent.push([messages.map((message) => message.messageId), delaySeconds]);
      return new Set();
    };
    ports.holdBack = async () => undefined;
    const message = jobRecord(job({ externalId: 'guest-1', at: at(40) }), 'm-1', settings.maxReceiveCount);

    // Act
    const report = await processBatch([message], settings, ports);

    // Assess
    expect(calls).toEqual([]);
    expect(letters).toEqual([]);
    expect(report.summary.deadLettered).toBe(0);
    expect(report.summary.resent).toBe(1);
    expect(report.batchItemFailures).toEqual([]);
    expect(resent).toHaveLength(1);
    expect(resent[0]?.[0]).toEqual(['m-1']);
    expect(resent[0]?.[1]).toBeGreaterThanOrEqual(7);
    expect(resent[0]?.[1]).toBeLessThanOrEqual(9);
  });

  it("claims a record no longer than the invocation's CRM budget, so the claim of an invocation that dies lapses before its function timeout", async () => {
    // Prepare: read the claim while the CRM request is in flight
    const h = harness();
    let claimedUntil: number | undefined;
    const upsert = h.ports.upsert;
    h.ports.upsert = async (records, key, timeoutMs) => {
      claimedUntil = (await h.table.get<VersionItem>('version#guest-1'))?.claimedUntil;
      return upsert(records, key, timeoutMs);
    };
    const budgetEnd = NOW + h.ports.remainingMs();

    // Act
    await processBatch([jobRecord(job({ externalId: 'guest-1', at: at(40) }), 'm-1')], settings, h.ports);

    // Assess
    expect(claimedUntil).toBeDefined();
    expect(claimedUntil).toBeLessThanOrEqual(budgetEnd);
  });

  it('supersedes an older job after a newer send got no answer (the CRM may hold it), and sends the newer one again', async () => {
    // Prepare: the CRM applies version 30 but its answer is lost
    let lose = true;
    const h = harness({ answer: () => (lose ? undefined : undefined) as unknown as BatchUpsertOutcome });
    const upsert = h.ports.upsert;
    h.ports.upsert = async (records, key, timeoutMs) => {
      const outcome = await upsert(records, key, timeoutMs);
      return lose ? { kind: 'transient', reason: 'the CRM did not answer in time', timedOut: true } : outcome;
    };
    const newer = job({ externalId: 'guest-1', at: at(30), attributes: { tier: 'platinum' } });
    const older = job({ externalId: 'guest-1', at: at(10), attributes: { tier: 'silver' } });
    const first = await processBatch([jobRecord(newer, 'm-new')], settings, h.ports);
    lose = false;

    // Act
    const late = await processBatch([jobRecord(older, 'm-old')], settings, h.ports);
    const again = await processBatch([jobRecord(newer, 'm-new', 2)], settings, h.ports);

    // Assess
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: 'm-new' }]);
    expect(late.summary.superseded).toBe(1);
    expect(again.batchItemFailures).toEqual([]);
    expect(h.crm.get('guest-1')?.attributes).toEqual({ tier: 'platinum' });
    expect(h.calls.every((records) => records.every((record) => record.sourceUpdatedAt === at(30)))).toBe(true);
  });
});

describe('the cost of the guards', () => {
  it('reads and writes the versions of a 100-record batch per chunk of 50: one read and two write calls each (the claims, then the confirmations that also release), never a call per record', async () => {
    // Prepare
    const memory = new MemoryStateTable(() => NOW);
    const calls = { get: 0, getMany: 0, put: 0, putEach: 0, written: 0 };
    const table: StateTable = {
      get: (pk) => ((calls.get += 1), memory.get(pk)),
      getMany: (pks) => ((calls.getMany += 1), memory.getMany(pks)),
      put: (item, condition) => ((calls.put += 1), memory.put(item, condition)),
      putEach: (writes) => ((calls.putEach += 1), (calls.written += writes.length), memory.putEach(writes)),
      delete: (pk, condition) => memory.delete(pk, condition),
      queryIndex: (query) => memory.queryIndex(query),
    };
    const { ports, crm } = harness({ table });
    const messages = Array.from({ length: 100 }, (_, i) => jobRecord(job({ externalId: `guest-${i}`, at: at(20) }), `m-${i}`));

    // Act
    const report = await processBatch(messages, settings, ports);

    // Assess
    expect(report.batchItemFailures).toEqual([]);
    expect(crm.size).toBe(100);
    expect(calls).toEqual({ get: 0, getMany: 2, put: 0, putEach: 4, written: 200 });
  });
});

describe('never twice', () => {
  it('does not send again a chunk the CRM applied when only recording its version failed, and confirms it on redelivery', async () => {
    // Prepare: the version write fails once, after the CRM applied the chunk
    const table = new DynamoStateTable({ tableName: TABLE.tableName, client: dynamo.client, now: () => NOW });
    let failConfirm = true;
    const flaky: StateTable = {
      get: (pk) => table.get(pk),
      getMany: (pks) => table.getMany(pks),
      put: async (item, condition) => {
        if (failConfirm && item['owner'] === undefined && String(item.pk).startsWith('version#')) throw new Error('DynamoDB is unavailable');
        return table.put(item, condition);
      },
      putEach: async (writes) => {
        if (failConfirm && writes.some(({ item }) => item['owner'] === undefined && String(item.pk).startsWith('version#'))) throw new Error('DynamoDB is unavailable');
        return table.putEach(writes);
      },
      delete: (pk, condition) => table.delete(pk, condition),
      queryIndex: (query) => table.queryIndex(query),
    };
    const h = harness({ table: flaky });
    h.ports.chunks = powertoolsChunkLedger(dynamoPersistence(TABLE.tableName, dynamo.client), () => 25_000);
    const guest = job({ externalId: `guest-${Date.now()}`, at: at(20) });
    const first = await processBatch([jobRecord(guest, 'm-1')], settings, h.ports);
    failConfirm = false;

    // Act
    const redelivered = await processBatch([jobRecord(guest, 'm-1', 2)], settings, h.ports);

    // Assess
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
    expect(redelivered.batchItemFailures).toEqual([]);
    expect(redelivered.summary.chunksReplayed).toBe(1);
    expect(h.calls).toHaveLength(1);
    expect(await new RecordVersions(table, () => NOW).applied(guest.record.externalId)).toMatch(new RegExp(`#${guest.jobId}$`));
  });
});

describe('provider failures on the worker paths', () => {
  const failing = (failure: CallFailure) => () => toBatchOutcome({ kind: 'failed', failure });

  it('pauses until the daily quota resets, spends no more requests, and dead-letters nothing', async () => {
    // Prepare
    const resetAt = NOW + 5 * 3_600_000;
    const { ports, calls, letters, pauses } = harness({ answer: failing({ kind: 'quota_exhausted', status: 429, reason: 'DAILY', resetAt, probeAfterMs: 60_000 }) });
    const messages = ['a', 'b'].map((id) => jobRecord(job({ externalId: id }), `m-${id}`));

    // Act
    const report = await processBatch(messages, { ...settings, batchSize: 1 }, ports);

    // Assess
    expect(pauses.map((pause) => pause.kind)).toEqual(['limit']);
    expect(pauses[0]?.pauseMs).toBeGreaterThan(resetAt - NOW - 1_000);
    expect(pauses[0]?.pauseMs).toBeLessThanOrEqual(resetAt - NOW);
    expect(calls.length).toBeLessThanOrEqual(2);
    expect(letters).toEqual([]);
    expect(report.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(['m-a', 'm-b']);
  });

  it('pauses on credentials refused after a fresh secret read', async () => {
    // Prepare
    const { ports, pauses, letters } = harness({ answer: failing({ kind: 'credentials', status: 401, reason: 'INVALID_SESSION_ID' }) });

    // Act
    const report = await processBatch([jobRecord(job(), 'm-1')], settings, ports);

    // Assess
    expect(pauses.map((pause) => pause.kind)).toEqual(['credentials']);
    expect(report.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
    expect(letters).toEqual([]);
  });

  it('only slows down on a ten-second window: waits its Retry-After and sends again in the same invocation, no pause', async () => {
    // Prepare
    const { ports, pauses, crm, clock } = harness({ answer: (_records, n) => (n === 1 ? toBatchOutcome({ kind: 'failed', failure: { kind: 'rate_limited', status: 429, reason: 'TEN_SECONDLY_ROLLING', retryAfterMs: 2_000 } }) : (undefined as unknown as BatchUpsertOutcome)) });

    // Act
    const report = await processBatch([jobRecord(job({ externalId: 'guest-1' }), 'm-1')], settings, ports);

    // Assess
    expect(pauses).toEqual([]);
    expect(report.batchItemFailures).toEqual([]);
    expect(crm.has('guest-1')).toBe(true);
    expect(clock.time - NOW).toBeGreaterThanOrEqual(2_000);
  });

  it('dead-letters every record at once when the integration lacks a scope (permanent), with one request', async () => {
    // Prepare
    const { ports, letters, calls } = harness({ answer: failing({ kind: 'permission', status: 403, reason: 'MISSING_SCOPES: crm.objects.contacts.write' }) });
    const messages = ['a', 'b', 'c'].map((id) => jobRecord(job({ externalId: id }), `m-${id}`));

    // Act
    const report = await processBatch(messages, settings, ports);

    // Assess
    expect(calls).toHaveLength(1);
    expect(report.batchItemFailures).toEqual([]);
    expect(letters.map((letter) => [letter.message.messageId, letter.code])).toEqual([
      ['m-a', PERMISSION_DENIED_CODE],
      ['m-b', PERMISSION_DENIED_CODE],
      ['m-c', PERMISSION_DENIED_CODE],
    ]);
  });
});
