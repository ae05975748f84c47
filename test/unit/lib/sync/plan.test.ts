import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunk, coalesce, idempotencyKey, outgoingRecord, type QueuedJob } from '#lib/sync/plan.ts';
import { job, type JobOptions } from '#test/support/factories.ts';

const queued = (options: JobOptions, messageId = `m-${options.externalId}-${options.at}`): QueuedJob => ({
  messageId,
  receiveCount: 1,
  job: job(options),
});

describe('coalesce', () => {
  describe.each<[string, JobOptions[], Record<string, string>]>([
    ['distinct records stay apart', [{ externalId: 'a' }, { externalId: 'b' }], { a: '2025-03-01T10:00:00.000Z', b: '2025-03-01T10:00:00.000Z' }],
    [
      'the newest sourceUpdatedAt wins, whatever the delivery order',
      [
        { externalId: 'a', at: '2025-03-01T10:00:02.000Z' },
        { externalId: 'a', at: '2025-03-01T10:00:09.000Z' },
        { externalId: 'a', at: '2025-03-01T10:00:05.000Z' },
      ],
      { a: '2025-03-01T10:00:09.000Z' },
    ],
    [
      'time zones are compared as instants',
      [
        { externalId: 'a', at: '2025-03-01T12:00:00+02:00' },
        { externalId: 'a', at: '2025-03-01T10:30:00Z' },
      ],
      { a: '2025-03-01T10:30:00Z' },
    ],
  ])('%s', (_case, jobs, winners) => {
    it('in this order', () => {
      // Act
      const entries = coalesce(jobs.map((job) => queued(job)));

      // Assess
      expect(Object.fromEntries(entries.map((entry) => [entry.externalId, entry.winner.job.record.sourceUpdatedAt]))).toEqual(winners);
      expect(entries.reduce((n, entry) => n + 1 + entry.superseded.length, 0)).toBe(jobs.length);
    });

    it('and in reverse order', () => {
      // Act
      const entries = coalesce(jobs.map((job) => queued(job)).reverse());

      // Assess
      expect(Object.fromEntries(entries.map((entry) => [entry.externalId, entry.winner.job.record.sourceUpdatedAt]))).toEqual(winners);
    });
  });

  it('breaks a sourceUpdatedAt tie by the job id, whatever the enqueue time (as the stored versions do)', () => {
    // Prepare
    const at = '2025-03-01T10:00:00.000Z';
    const first = queued({ externalId: 'a', at, enqueuedAt: '2025-03-01T10:00:02.000Z', attributes: { v: 1 } }, 'm1');
    const second = queued({ externalId: 'a', at, enqueuedAt: '2025-03-01T10:00:01.000Z', attributes: { v: 2 } }, 'm2');
    const [higher, lower] = first.job.jobId > second.job.jobId ? [first, second] : [second, first];

    // Act
    const [entry] = coalesce([lower, higher]);

    // Assess
    expect(entry?.winner.messageId).toBe(higher.messageId);
    expect(entry?.superseded.map((job) => job.messageId)).toEqual([lower.messageId]);
  });

  it('merges field by field: a newer job carrying only attributes keeps the hashes and consent of an older one', () => {
    // Prepare
    const prefill = queued({ externalId: 'a', at: '2025-03-01T10:00:00.000Z', emailHash: 'e'.repeat(64), consentFlags: { marketing: true }, attributes: { tier: 'gold', lang: 'en' } }, 'm1');
    const webhook = queued({ externalId: 'a', at: '2025-03-01T10:00:05.000Z', emailHash: null, consentFlags: null, attributes: { lang: 'fr' } }, 'm2');

    // Act
    const [entry] = coalesce([webhook, prefill]);

    // Assess
    expect(entry?.record).toMatchObject({ emailHash: 'e'.repeat(64), consentFlags: { marketing: true }, attributes: { tier: 'gold', lang: 'fr' }, sourceUpdatedAt: '2025-03-01T10:00:05.000Z' });
    expect(entry?.version).toBe(`${String(Date.parse('2025-03-01T10:00:05.000Z')).padStart(16, '0')}#${webhook.job.jobId}`);
  });

  it('folds a message delivered twice into one record', () => {
    // Prepare
    const job = queued({ externalId: 'a' }, 'm1');
    const again = { ...job, messageId: 'm2' };

    // Act
    const entries = coalesce([job, again]);

    // Assess
    expect(entries).toHaveLength(1);
    expect(entries[0]?.superseded).toHaveLength(1);
  });

  it('sorts records by external id, so the same jobs always make the same chunks', () => {
    // Prepare
    const jobs = ['c', 'a', 'b'].map((externalId) => queued({ externalId }));

    // Act / Assess
    expect(coalesce(jobs).map((entry) => entry.externalId)).toEqual(['a', 'b', 'c']);
  });
});

describe('chunk', () => {
  it.each<[number, number, number[]]>([
    [0, 50, []],
    [1, 50, [1]],
    [50, 50, [50]],
    [51, 50, [50, 1]],
    [120, 50, [50, 50, 20]],
    [5, 1, [1, 1, 1, 1, 1]],
  ])('%i items in chunks of %i: %j', (count, size, sizes) => {
    // Act
    const chunks = chunk(Array.from({ length: count }, (_, i) => i), size);

    // Assess
    expect(chunks.map((c) => c.length)).toEqual(sizes);
    expect(chunks.flat()).toEqual(Array.from({ length: count }, (_, i) => i));
  });

  it.each([0, -1, 1.5])('refuses a chunk size of %s', (size) => {
    expect(() => chunk([1], size)).toThrow(RangeError);
  });
});

describe('idempotencyKey', () => {
  const entriesOf = (ids: string[]) =>
    ids.map((externalId) => {
      const guest = job({ externalId });
      return { jobId: guest.jobId, record: guest.record };
    });

  it('is the same for the same jobs in any order', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 20 }), fc.nat(), (ids, seed) => {
        // Prepare
        const entries = entriesOf(ids);
        const shuffled = [...entries].sort((a, b) => ((a.jobId.charCodeAt(seed % 32) ^ seed) - (b.jobId.charCodeAt(seed % 32) ^ seed)));

        // Act / Assess
        expect(idempotencyKey(shuffled)).toBe(idempotencyKey(entries));
      }),
    );
  });

  it('differs for any other set of jobs', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 2, maxLength: 20 }),
        (ids) => {
          // Prepare: the set without its last job
          const all = entriesOf(ids);

          // Act / Assess
          expect(idempotencyKey(all.slice(0, -1))).not.toBe(idempotencyKey(all));
        },
      ),
    );
  });

  it('never names two different bodies (same job id, other content: other key)', () => {
    // Prepare
    const guest = job({ externalId: 'a' });
    const changed = { ...guest.record, attributes: { tier: 'platinum' } };

    // Act / Assess
    expect(idempotencyKey([{ jobId: guest.jobId, record: changed }])).not.toBe(idempotencyKey([{ jobId: guest.jobId, record: guest.record }]));
  });

  it('does not depend on the key order inside a record', () => {
    // Prepare
    const guest = job({ externalId: 'a', attributes: { x: 1, y: 2 } });
    const reordered = { ...Object.fromEntries(Object.entries(guest.record).reverse()), attributes: { y: 2, x: 1 } } as unknown as typeof guest.record;

    // Act / Assess
    expect(idempotencyKey([{ jobId: guest.jobId, record: reordered }])).toBe(idempotencyKey([{ jobId: guest.jobId, record: guest.record }]));
    expect(JSON.stringify(outgoingRecord(reordered))).toBe(JSON.stringify(outgoingRecord(guest.record)));
  });

  it('uses neither the clock nor randomness', () => {
    // Prepare
    const entries = entriesOf(['a', 'b']);

    // Act
    const first = idempotencyKey(entries);
    const second = idempotencyKey(entries);

    // Assess
    expect(second).toBe(first);
    expect(first).toMatch(/^crm-sync-[0-9a-f]{64}$/);
  });
});
