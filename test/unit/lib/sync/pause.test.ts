/**
 * The worker's side of the outage pause: what a batch does when the CRM is down, over its
 * quota or refusing credentials, when a pause already holds, and on a job's last receive.
 */
import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createCrmBreaker, type BatchUpsertOutcome, type CrmRecordResult } from '#lib/crm';
import type { CrmRecord } from '#lib/jobs';
import { MemoryStateTable } from '#lib/state/table.ts';
import type { OutageSignal } from '#lib/sync/outage.ts';
import type { DeadLetter } from '#lib/sync/dead-letter.ts';
import { RequestRateLimiter } from '#lib/sync/rate-limit.ts';
import { processBatch, type SyncPorts } from '#lib/sync/processor.ts';
import { PAUSE_KEY, readPause, requestPause, type PauseItem } from '#lib/sync/pause.ts';
import { pausePorts } from '#lib/sync/worker.ts';
import { job, jobRecord } from '#test/support/factories.ts';

const NOW = Date.UTC(2025, 2, 1, 12);

const ok = (records: CrmRecord[]): BatchUpsertOutcome => ({
  kind: 'ok',
  status: 200,
  replayed: false,
  results: records.map((r): CrmRecordResult => ({ externalId: r.externalId, status: 'created' })),
});

/** The processor with a scripted CRM, the real pause ports on a memory state table, and SQS fakes. */
function harness(answer: (records: CrmRecord[], n: number) => BatchUpsertOutcome, store = new MemoryStateTable(() => NOW)) {
  const clock = { time: NOW };
  const sleep = async (ms: number): Promise<void> => {
    clock.time += ms;
  };
  let requests = 0;
  const letters: DeadLetter[] = [];
  const held: Array<{ ids: string[]; seconds: number }> = [];
  const resent: Array<{ ids: string[]; delaySeconds: number }> = [];
  const wakes: OutageSignal[] = [];
  const ports: SyncPorts = {
    upsert: async (records) => {
      requests += 1;
      return answer(records, requests);
    },
    deadLetter: async (sent) => {
      letters.push(...sent);
      return new Set();
    },
    limiter: new RequestRateLimiter(1000, { now: () => clock.time, sleep }),
    breaker: createCrmBreaker({ halfOpenAfterMs: 30_000 }),
    remainingMs: () => NOW + 25_000 - clock.time,
    sleep,
    random: () => 0.5,
    now: () => NOW,
    ...pausePorts(store, { now: () => NOW, wake: async (signal) => void wakes.push(signal) }),
    holdBack: async (messages, seconds) => void held.push({ ids: messages.map((m) => m.messageId).sort(), seconds }),
    resend: async (messages, delaySeconds) => {
      resent.push({ ids: messages.map((m) => m.messageId).sort(), delaySeconds });
      return new Set();
    },
  };
  return { ports, store, letters, held, resent, wakes, requests: () => requests };
}

const settings = { batchSize: 2, maxReceiveCount: 5, probeIntervalMs: 60_000 };
const batch = (count: number, receiveCount = 1): SQSRecord[] =>
  Array.from({ length: count }, (_, i) => jobRecord(job({ externalId: `guest-${i}` }), `m-${i}`, receiveCount));
const ids = (count: number): string[] => Array.from({ length: count }, (_, i) => `m-${i}`).sort();

describe('an outage seen by a batch', () => {
  it.each<[string, BatchUpsertOutcome, PauseItem['kind'], number]>([
    ['the CRM refuses the credentials (401)', { kind: 'transient', status: 401, reason: 'the CRM answered 401' }, 'credentials', 60_000],
    ['the CRM refuses the credentials (403)', { kind: 'transient', status: 403, reason: 'the CRM answered 403' }, 'credentials', 60_000],
    ['the daily quota is used up (429, Retry-After 5 h)', { kind: 'transient', status: 429, reason: 'the CRM answered 429', retryAfterMs: 5 * 3_600_000 }, 'limit', 5 * 3_600_000],
  ])('%s: pauses, wakes the control function, and hands the whole batch back held until the pause ends', async (_case, outcome, kind, pauseMs) => {
    // Prepare
    const h = harness(() => outcome);

    // Act
    const report = await processBatch(batch(6), settings, h.ports);

    // Assess: the three chunks in flight together asked once each, and none again
    expect(h.requests()).toBe(3);
    expect(report.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(ids(6));
    expect(h.letters).toEqual([]);
    expect(await readPause(h.store)).toMatchObject({ kind, until: NOW + pauseMs, phase: 'paused', since: NOW });
    expect(h.wakes.map((w) => w.kind)).toEqual([kind]);
    expect(h.held).toEqual([{ ids: ids(6), seconds: pauseMs / 1000 }]);
  });

  it('the breaker opens on a CRM that keeps failing: the batch pauses the sync instead of spending the next receives', async () => {
    // Prepare
    const h = harness(() => ({ kind: 'transient', status: 503, reason: 'the CRM answered 503' }));

    // Act
    const report = await processBatch(batch(6), settings, h.ports);

    // Assess
    expect(report.summary.pause?.kind).toBe('outage');
    expect(await readPause(h.store)).toMatchObject({ kind: 'outage', until: NOW + 60_000 });
    expect(report.batchItemFailures).toHaveLength(6);
    expect(h.held).toEqual([{ ids: ids(6), seconds: 60 }]);
  });

  it('a short 429 (throttling) and a lone 503 do not pause anything', async () => {
    // Prepare
    const h = harness((records, n) => (n === 1 ? { kind: 'transient', status: 429, reason: '429', retryAfterMs: 1_000 } : n === 2 ? { kind: 'transient', status: 503, reason: '503' } : ok(records)));

    // Act
    const report = await processBatch(batch(2), settings, h.ports);

    // Assess
    expect(report.batchItemFailures).toEqual([]);
    expect(await readPause(h.store)).toBeUndefined();
    expect(h.wakes).toEqual([]);
  });
});

describe('a batch that arrives while a pause holds (the mapping is still being disabled)', () => {
  it('makes no CRM request and hands every job back, invisible until the pause ends', async () => {
    // Prepare
    const h = harness(ok);
    await requestPause(h.store, { kind: 'outage', reason: 'down', until: NOW + 45_000 }, NOW - 15_000);

    // Act
    const report = await processBatch(batch(4), settings, h.ports);

    // Assess
    expect(h.requests()).toBe(0);
    expect(report.batchItemFailures).toHaveLength(4);
    expect(h.held).toEqual([{ ids: ids(4), seconds: 45 }]);
    expect(h.wakes).toEqual([]);
  });

  it('works normally once the pause has run out (the control function has not probed yet)', async () => {
    // Prepare
    const h = harness(ok);
    await requestPause(h.store, { kind: 'outage', reason: 'down', until: NOW - 1 }, NOW - 60_000);

    // Act
    const report = await processBatch(batch(4), settings, h.ports);

    // Assess
    expect(report.batchItemFailures).toEqual([]);
    expect(h.requests()).toBe(2);
  });
});

describe("a job's last receive", () => {
  it('during an outage: sent again as a new message delayed into the pause, never dead-lettered', async () => {
    // Prepare: every message is on its 5th (last) receive
    const h = harness(() => ({ kind: 'transient', status: 503, reason: 'the CRM answered 503' }));

    // Act
    const report = await processBatch(batch(3, 5), settings, h.ports);

    // Assess: not in batchItemFailures (the mapping deletes the old message), resent, not in the DLQ
    expect(report.batchItemFailures).toEqual([]);
    expect(h.resent).toEqual([{ ids: ids(3), delaySeconds: 60 }]);
    expect(h.letters).toEqual([]);
    expect(report.summary.resent).toBe(3);
  });

  it('when the resend fails: dead-lettered with its reason rather than lost', async () => {
    // Prepare
    const h = harness(() => ({ kind: 'transient', status: 503, reason: 'the CRM answered 503' }));
    h.ports.resend = async (messages) => new Set(messages.map((m) => m.messageId));

    // Act
    await processBatch(batch(1, 5), settings, h.ports);

    // Assess
    expect(h.letters.map((l) => l.code)).toEqual(['RETRIES_EXHAUSTED']);
  });

  it('a record the CRM itself keeps failing (a transient record code while the CRM answers) still goes to the DLQ', async () => {
    // Prepare
    const h = harness((records) => ({
      kind: 'ok',
      status: 200,
      replayed: false,
      results: records.map((r): CrmRecordResult => ({ externalId: r.externalId, status: 'failed', error: { code: 'ROW_LOCKED', message: 'locked' } })),
    }));

    // Act
    await processBatch(batch(1, 5), settings, h.ports);

    // Assess
    expect(h.resent).toEqual([]);
    expect(h.letters.map((l) => l.code)).toEqual(['RETRIES_EXHAUSTED']);
  });

  it('a permanent rejection goes to the DLQ at once, outage or not', async () => {
    // Prepare
    const h = harness((records) => ({
      kind: 'ok',
      status: 200,
      replayed: false,
      results: records.map((r): CrmRecordResult => ({ externalId: r.externalId, status: 'failed', error: { code: 'VALIDATION_ERROR', message: 'no consent basis' } })),
    }));

    // Act
    await processBatch(batch(1, 1), settings, h.ports);

    // Assess
    expect(h.letters.map((l) => [l.code, l.reason])).toEqual([['VALIDATION_ERROR', 'no consent basis']]);
  });
});

describe('requestPause', () => {
  it('only moves a pause forward, and keeps when the outage began', async () => {
    // Prepare
    const store = new MemoryStateTable(() => NOW);
    await requestPause(store, { kind: 'limit', reason: 'quota', until: NOW + 3_600_000 }, NOW);

    // Act
    const shorter = await requestPause(store, { kind: 'outage', reason: 'down', until: NOW + 60_000 }, NOW + 1_000);
    const longer = await requestPause(store, { kind: 'outage', reason: 'down', until: NOW + 7_200_000 }, NOW + 2_000);

    // Assess
    expect(shorter).toMatchObject({ kind: 'limit', until: NOW + 3_600_000 });
    expect(longer).toMatchObject({ kind: 'outage', until: NOW + 7_200_000, since: NOW });
    expect((await store.get(PAUSE_KEY))?.['expiresAt']).toBeUndefined();
  });
});

describe('a message delivered twice in one batch', () => {
  it('counts once, by its latest receive: on its last receive it is resent, not also handed back', async () => {
    // Prepare: the same message at receive 4 and (a later delivery) receive 5
    const h = harness(() => ({ kind: 'transient', status: 503, reason: 'the CRM answered 503' }));
    const guest = job({ externalId: 'guest-0' });

    // Act
    const report = await processBatch([jobRecord(guest, 'm-0', 4), jobRecord(guest, 'm-0', 5)], settings, h.ports);

    // Assess
    expect(report.batchItemFailures).toEqual([]);
    expect(h.resent).toEqual([{ ids: ['m-0'], delaySeconds: 60 }]);
    expect(report.summary.received).toBe(2);
  });
});
