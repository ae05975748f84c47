import type { SQSRecord } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCrmBreaker, type BatchUpsertOutcome, type CrmRecordResult } from '#lib/crm';
import type { CrmRecord } from '#lib/jobs';
import type { DeadLetter } from '#lib/sync/dead-letter.ts';
import { RequestRateLimiter } from '#lib/sync/rate-limit.ts';
import { processBatch, type SyncPorts, type SyncSettings } from '#lib/sync/processor.ts';
import { job, jobRecord, sqsRecord } from '#test/support/factories.ts';

/** One CRM request as the fake CRM saw it. */
interface Call {
  records: CrmRecord[];
  key: string;
  timeoutMs: number;
}

type Answer = (call: Call, n: number) => BatchUpsertOutcome | Promise<BatchUpsertOutcome>;

const created: Answer = (call) => ({
  kind: 'ok',
  status: 200,
  replayed: false,
  results: call.records.map((r): CrmRecordResult => ({ externalId: r.externalId, status: 'created' })),
});

/**
 * The processor's ports with fakes: a scripted CRM, a DLQ that records letters, a clock
 * that only moves when something sleeps, and the real rate limiter and breaker on it.
 */
function harness(options: { answer?: Answer; budgetMs?: number; perSecond?: number; dlqDown?: boolean; halfOpenAfterMs?: number } = {}) {
  const clock = { time: 0 };
  const sleeps: number[] = [];
  const sleep = async (ms: number): Promise<void> => {
    sleeps.push(ms);
    clock.time += ms;
  };
  const calls: Call[] = [];
  const letters: DeadLetter[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const answer = options.answer ?? created;
  const breakerStates: string[] = [];
  const ports: SyncPorts = {
    upsert: async (records, key, timeoutMs) => {
      const call = { records, key, timeoutMs };
      calls.push(call);
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await Promise.resolve();
      try {
        return await answer(call, calls.length);
      } finally {
        inFlight -= 1;
      }
    },
    deadLetter: async (sent) => {
      if (options.dlqDown) return new Set(sent.map((letter) => letter.message.messageId));
      letters.push(...sent);
      return new Set();
    },
    limiter: new RequestRateLimiter(options.perSecond ?? 1000, { now: () => clock.time, sleep }),
    breaker: createCrmBreaker({ halfOpenAfterMs: options.halfOpenAfterMs ?? 30_000, onStateChange: (state) => breakerStates.push(state) }),
    remainingMs: () => (options.budgetMs ?? 25_000) - clock.time,
    sleep,
    random: () => 0.5,
  };
  return { ports, calls, letters, sleeps, clock, breakerStates, maxInFlight: () => maxInFlight };
}

const settings: SyncSettings = { batchSize: 50, maxReceiveCount: 5 };
const failedIds = (report: { batchItemFailures: Array<{ itemIdentifier: string }> }): string[] =>
  report.batchItemFailures.map((f) => f.itemIdentifier).sort();

afterEach(() => {
  vi.useRealTimers();
});

describe('processBatch: the happy path', () => {
  it('upserts every record in one request and reports no failure', async () => {
    // Prepare
    const records = ['a', 'b', 'c'].map((id) => jobRecord(job({ externalId: id })));
    const { ports, calls, letters } = harness();

    // Act
    const report = await processBatch(records, settings, ports);

    // Assess
    expect(report.batchItemFailures).toEqual([]);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.records.map((r) => r.externalId)).toEqual(['a', 'b', 'c']);
    expect(letters).toEqual([]);
    expect(report.summary).toMatchObject({ received: 3, records: 3, requests: 1, upserted: { created: 3, updated: 0, unchanged: 0 } });
  });

  it.each<[number, number, number[]]>([
    [50, 50, [50]],
    [51, 50, [50, 1]],
    [120, 50, [50, 50, 20]],
    [10, 3, [3, 3, 3, 1]],
  ])('chunks %i records to CRM_BATCH_SIZE %i', async (count, batchSize, sizes) => {
    // Prepare
    const records = Array.from({ length: count }, (_, i) => jobRecord(job({ externalId: `ext-${String(i).padStart(4, '0')}` })));
    const { ports, calls } = harness();

    // Act
    await processBatch(records, { ...settings, batchSize }, ports);

    // Assess
    expect(calls.map((c) => c.records.length).sort((a, b) => b - a)).toEqual(sizes);
  });

  it('keeps at most four chunks in flight at once', async () => {
    // Prepare
    const records = Array.from({ length: 20 }, (_, i) => jobRecord(job({ externalId: `ext-${i}` })));
    const slow: Answer = async (call, n) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return created(call, n);
    };
    const h = harness({ answer: slow });

    // Act
    await processBatch(records, { ...settings, batchSize: 2 }, h.ports);

    // Assess
    expect(h.calls).toHaveLength(10);
    expect(h.maxInFlight()).toBe(4);
  });

  it('sends one record per external id: the newest, and the older messages are done with it', async () => {
    // Prepare
    const older = jobRecord(job({ externalId: 'a', at: '2025-03-01T10:00:00.000Z' }), 'older');
    const newer = jobRecord(job({ externalId: 'a', at: '2025-03-01T11:00:00.000Z' }), 'newer');
    const other = jobRecord(job({ externalId: 'b' }), 'other');
    const { ports, calls } = harness();

    // Act
    const report = await processBatch([newer, other, older], settings, ports);

    // Assess
    expect(report.batchItemFailures).toEqual([]);
    expect(calls[0]?.records.map((r) => [r.externalId, r.sourceUpdatedAt])).toEqual([
      ['a', '2025-03-01T11:00:00.000Z'],
      ['b', '2025-03-01T10:00:00.000Z'],
    ]);
    expect(report.summary.coalesced).toBe(1);
  });

  it('sends the same key for the same jobs however SQS orders them', async () => {
    // Prepare
    const records = ['a', 'b', 'c', 'd'].map((id) => jobRecord(job({ externalId: id })));
    const first = harness();
    const second = harness();

    // Act
    await processBatch(records, settings, first.ports);
    await processBatch([...records].reverse(), settings, second.ports);

    // Assess
    expect(second.calls[0]?.key).toBe(first.calls[0]?.key);
  });
});

describe('processBatch: permanent failures go to the DLQ with their reason', () => {
  it('dead-letters exactly the records the CRM rejects; their chunk-mates are done', async () => {
    // Prepare
    const records = ['a', 'b', 'c'].map((id) => jobRecord(job({ externalId: id }), `m-${id}`));
    const answer: Answer = (call) => ({
      kind: 'ok',
      status: 200,
      replayed: false,
      results: call.records.map((r) =>
        r.externalId === 'b'
          ? { externalId: 'b', status: 'failed', error: { code: 'VALIDATION_ERROR', message: 'consentFlags.marketing is required' } }
          : { externalId: r.externalId, status: 'updated' },
      ),
    });
    const { ports, letters } = harness({ answer });

    // Act
    const report = await processBatch(records, settings, ports);

    // Assess
    expect(report.batchItemFailures).toEqual([]);
    expect(letters.map((l) => [l.message.messageId, l.code, l.reason])).toEqual([['m-b', 'VALIDATION_ERROR', 'consentFlags.marketing is required']]);
    expect(report.summary.failedPermanently).toEqual({ VALIDATION_ERROR: 1 });
    expect(report.summary.upserted.updated).toBe(2);
  });

  it.each<[string, string]>([
    ['bad JSON', '{"v":1'],
    ['an unknown version', JSON.stringify({ ...job(), v: 2 })],
    ['a missing record', JSON.stringify({ ...job(), record: undefined })],
  ])('dead-letters a message with %s as INVALID_JOB without calling the CRM for it', async (_case, body) => {
    // Prepare
    const bad = sqsRecord(body, 'bad');
    const good = jobRecord(job({ externalId: 'a' }), 'good');
    const { ports, calls, letters } = harness();

    // Act
    const report = await processBatch([bad, good], settings, ports);

    // Assess
    expect(report.batchItemFailures).toEqual([]);
    expect(letters.map((l) => [l.message.messageId, l.code])).toEqual([['bad', 'INVALID_JOB']]);
    expect(calls.flatMap((c) => c.records.map((r) => r.externalId))).toEqual(['a']);
  });

  it('gives the superseded messages of a rejected record the same fate', async () => {
    // Prepare
    const older = jobRecord(job({ externalId: 'a', at: '2025-03-01T10:00:00.000Z' }), 'older');
    const newer = jobRecord(job({ externalId: 'a', at: '2025-03-01T11:00:00.000Z' }), 'newer');
    const answer: Answer = () => ({ kind: 'ok', status: 200, replayed: false, results: [{ externalId: 'a', status: 'failed', error: { code: '422', message: 'bad' } }] });
    const { ports, letters } = harness({ answer });

    // Act
    const report = await processBatch([older, newer], settings, ports);

    // Assess
    expect(report.batchItemFailures).toEqual([]);
    expect(letters.map((l) => [l.message.messageId, l.code])).toEqual([
      ['newer', '422'],
      ['older', '422'],
    ]);
    expect(letters[1]?.reason).toMatch(/^superseded by job /);
  });

  it('isolates the record a whole request is refused for (400) by halving the chunk', async () => {
    // Prepare: the CRM refuses any request that carries record "poison"
    const ids = ['a', 'b', 'c', 'd', 'e', 'poison', 'f'];
    const records = ids.map((id) => jobRecord(job({ externalId: id }), `m-${id}`));
    const answer: Answer = (call, n) =>
      call.records.some((r) => r.externalId === 'poison') ? { kind: 'rejected', status: 400, reason: 'the CRM answered 400: bad request' } : created(call, n);
    const { ports, letters, calls } = harness({ answer });

    // Act
    const report = await processBatch(records, settings, ports);

    // Assess
    expect(report.batchItemFailures).toEqual([]);
    expect(letters.map((l) => [l.message.messageId, l.code])).toEqual([['m-poison', 'CRM_HTTP_400']]);
    expect(report.summary.upserted.created).toBe(6);
    expect(new Set(calls.map((c) => c.key)).size).toBe(calls.length);
  });

  it('hands dead letters that cannot reach the DLQ back to SQS', async () => {
    // Prepare
    const { ports } = harness({ dlqDown: true });

    // Act
    const report = await processBatch([sqsRecord('not json', 'bad')], settings, ports);

    // Assess
    expect(failedIds(report)).toEqual(['bad']);
    expect(report.summary.deadLettered).toBe(0);
  });
});

describe('processBatch: transient failures are retried, then handed back to SQS', () => {
  it.each<[string, BatchUpsertOutcome]>([
    ['503', { kind: 'transient', status: 503, reason: 'the CRM answered 503' }],
    ['429', { kind: 'transient', status: 429, reason: 'the CRM answered 429', retryAfterMs: 1_000 }],
    ['409 in flight', { kind: 'transient', status: 409, reason: 'the CRM answered 409' }],
    ['a timeout', { kind: 'transient', reason: 'the CRM did not answer in time', timedOut: true }],
  ])('retries after %s with the same key and succeeds', async (_case, failure) => {
    // Prepare
    const records = ['a', 'b'].map((id) => jobRecord(job({ externalId: id })));
    const answer: Answer = (call, n) => (n <= 2 ? failure : created(call, n));
    const { ports, calls } = harness({ answer });

    // Act
    const report = await processBatch(records, settings, ports);

    // Assess
    expect(report.batchItemFailures).toEqual([]);
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((c) => c.key)).size).toBe(1);
    expect(report.summary.retried).toBe(4);
  });

  it('waits as long as Retry-After says, and the whole container with it', async () => {
    // Prepare
    const answer: Answer = (call, n) => (n === 1 ? { kind: 'transient', status: 429, reason: '429', retryAfterMs: 3_000 } : created(call, n));
    const { ports, clock, calls } = harness({ answer });
    const times: number[] = [];
    const upsert = ports.upsert;
    ports.upsert = (...args) => {
      times.push(clock.time);
      return upsert(...args);
    };

    // Act
    await processBatch([jobRecord(job())], settings, ports);

    // Assess
    expect(calls).toHaveLength(2);
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(3_000);
  });

  it('retries only the records the CRM failed transiently, under a new key', async () => {
    // Prepare
    const records = ['a', 'b'].map((id) => jobRecord(job({ externalId: id })));
    const answer: Answer = (call, n) =>
      n === 1
        ? { kind: 'ok', status: 200, replayed: false, results: [{ externalId: 'a', status: 'created' }, { externalId: 'b', status: 'failed', error: { code: 'RECORD_LOCKED', message: 'locked' } }] }
        : created(call, n);
    const { ports, calls, letters } = harness({ answer });

    // Act
    const report = await processBatch(records, settings, ports);

    // Assess
    expect(report.batchItemFailures).toEqual([]);
    expect(letters).toEqual([]);
    expect(calls[1]?.records.map((r) => r.externalId)).toEqual(['b']);
    expect(calls[1]?.key).not.toBe(calls[0]?.key);
  });

  it('hands the records back to SQS when the invocation runs out of time', async () => {
    // Prepare: every answer is 503 and the invocation has 3 s
    const records = ['a', 'b'].map((id) => jobRecord(job({ externalId: id }), `m-${id}`));
    const answer: Answer = () => ({ kind: 'transient', status: 503, reason: 'the CRM answered 503' });
    const { ports, letters } = harness({ answer, budgetMs: 3_000 });

    // Act
    const report = await processBatch(records, settings, ports);

    // Assess
    expect(failedIds(report)).toEqual(['m-a', 'm-b']);
    expect(letters).toEqual([]);
    expect(report.summary.deferred).toBe(2);
  });

  it('does not start a request it has no time for', async () => {
    // Prepare
    const { ports, calls } = harness({ budgetMs: 100 });

    // Act
    const report = await processBatch([jobRecord(job(), 'm')], settings, ports);

    // Assess
    expect(calls).toHaveLength(0);
    expect(failedIds(report)).toEqual(['m']);
  });

  it('caps each request at the time the invocation has left', async () => {
    // Prepare
    const { ports, calls } = harness({ budgetMs: 4_000 });

    // Act
    await processBatch([jobRecord(job())], settings, ports);

    // Assess
    expect(calls[0]?.timeoutMs).toBe(4_000);
  });

  it('dead-letters a still-failing message on its last receive, with the last reason', async () => {
    // Prepare
    const last = jobRecord(job({ externalId: 'a' }), 'last', 5);
    const early = jobRecord(job({ externalId: 'b' }), 'early', 2);
    const answer: Answer = () => ({ kind: 'transient', status: 503, reason: 'the CRM answered 503' });
    const { ports, letters } = harness({ answer, budgetMs: 2_000 });

    // Act
    const report = await processBatch([last, early], settings, ports);

    // Assess
    expect(failedIds(report)).toEqual(['early']);
    expect(letters.map((l) => [l.message.messageId, l.code])).toEqual([['last', 'RETRIES_EXHAUSTED']]);
    expect(letters[0]?.reason).toBe('the CRM answered 503 (still failing on receive 5 of 5)');
  });

  it('hands every message back when something unexpected breaks', async () => {
    // Prepare
    const answer: Answer = () => {
      throw new Error('bug');
    };
    const { ports } = harness({ answer });

    // Act
    const report = await processBatch([jobRecord(job({ externalId: 'a' }), 'x')], settings, ports);

    // Assess
    expect(failedIds(report)).toEqual(['x']);
    expect(report.unexpectedError).toBe('Error: bug');
  });
});

describe('processBatch: the circuit breaker', () => {
  const down: Answer = () => ({ kind: 'transient', status: 503, reason: 'the CRM answered 503' });
  const batchOf = (prefix: string, count: number): SQSRecord[] =>
    Array.from({ length: count }, (_, i) => jobRecord(job({ externalId: `${prefix}-${i}` }), `${prefix}-${i}`));

  it('opens after five consecutive failures and fails the rest of the batch without calling the CRM', async () => {
    // Prepare: 4 chunks of one record, one request in flight at a time
    const h = harness({ answer: down });

    // Act
    const report = await processBatch(batchOf('a', 4), { ...settings, batchSize: 1, chunkConcurrency: 1 }, h.ports);

    // Assess
    expect(h.calls).toHaveLength(5);
    expect(h.breakerStates).toEqual(['open']);
    expect(report.summary.breakerRejected).toBe(true);
    expect(report.batchItemFailures).toHaveLength(4);
  });

  it('fails the next batch fast while open, then lets one probe through after the pause and closes', async () => {
    // Prepare
    vi.useFakeTimers({ toFake: ['Date'] });
    let healthy = false;
    const h = harness({ answer: (call, n) => (healthy ? created(call, n) : down(call, n)), halfOpenAfterMs: 10_000 });
    await processBatch(batchOf('a', 1), { ...settings, maxAttemptsPerChunk: 5 }, h.ports);
    const callsWhenOpened = h.calls.length;

    // Act 1: a batch while open
    const whileOpen = await processBatch(batchOf('b', 3), settings, h.ports);

    // Assess 1
    expect(h.calls.length).toBe(callsWhenOpened);
    expect(whileOpen.batchItemFailures).toHaveLength(3);

    // Act 2: the CRM recovered and the pause is over
    healthy = true;
    vi.setSystemTime(Date.now() + 10_001);
    const afterPause = await processBatch(batchOf('c', 3), settings, h.ports);

    // Assess 2
    expect(afterPause.batchItemFailures).toEqual([]);
    expect(h.breakerStates).toEqual(['open', 'half-open', 'closed']);
  });

  it('does not count 409 (our own key still in flight) against the CRM', async () => {
    // Prepare
    const inFlight: Answer = () => ({ kind: 'transient', status: 409, reason: 'the CRM answered 409' });
    const h = harness({ answer: inFlight });

    // Act
    await processBatch(batchOf('a', 1), { ...settings, maxAttemptsPerChunk: 8 }, h.ports);

    // Assess
    expect(h.calls).toHaveLength(8);
    expect(h.breakerStates).toEqual([]);
  });
});

describe('processBatch: the client-side rate limit', () => {
  it('spaces requests to CRM_MAX_REQUESTS_PER_SECOND', async () => {
    // Prepare (one chunk at a time: the fake clock moves with each sleep)
    const h = harness({ perSecond: 5 });
    const times: number[] = [];
    const upsert = h.ports.upsert;
    h.ports.upsert = (...args) => {
      times.push(h.clock.time);
      return upsert(...args);
    };

    // Act
    await processBatch(batchOf10(), { ...settings, batchSize: 1, chunkConcurrency: 1 }, h.ports);

    // Assess
    expect(times).toEqual([0, 200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800]);
  });
});

function batchOf10(): SQSRecord[] {
  return Array.from({ length: 10 }, (_, i) => jobRecord(job({ externalId: `r-${i}` })));
}
