/**
 * The demo's summary and DLQ reader: what a person reads after `npm run demo` (statuses,
 * shortened ids and hashes, DLQ reasons, the verdict), and dead letters left where they were.
 */
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readDeadLetters } from '#scripts/demo/dlq.ts';
import type { DemoResult } from '#scripts/demo/run.ts';
import { formatSummary, shorten } from '#scripts/demo/summary.ts';
import { startEmbeddedSqs, type EmbeddedSqs } from '#local/sqs.ts';

const HASH = 'a'.repeat(64);
const GUEST = '281dc3a0-1bbb-4c1e-9a55-1b2f3c4d5e01';

const result = (overrides: Partial<DemoResult> = {}): DemoResult => ({
  ok: true,
  steps: [
    { title: 'health', method: 'GET', path: '/health', expected: 200, actual: 200, ok: true },
    { title: 'read the guest', method: 'GET', path: `/guests/${GUEST}`, expected: 200, actual: 200, ok: true },
  ],
  settled: true,
  settleMs: 2_000,
  records: [{ externalId: GUEST, from: 'guest create + update', found: true, ok: true, versions: 2, emailHash: HASH, attributeKeys: ['tier'] }],
  duplicateApplications: [],
  dlq: [{ messageId: 'm1', jobId: 'prefill-0123456789abcdef0123456789abcdef', failureCode: 'VALIDATION_ERROR', failureReason: 'refused', verdict: 'expected' }],
  report: { html: '/repo/reports/x.html', markdown: '/repo/reports/x.md', json: '/repo/reports/x.json', health: 'healthy' },
  problems: [],
  ...overrides,
});

describe('shorten', () => {
  it.each([
    ['a 64-character hash', HASH, 'aaaaaaaa…'],
    ['a UUID', GUEST, '281dc3a0…'],
    ['a short id', 'cust-1001', 'cust-1001'],
  ])('cuts %s', (_case, value, expected) => {
    // Act
    const short = shorten(value);

    // Assess
    expect(short).toBe(expected);
  });
});

describe('formatSummary', () => {
  it('shows each request, the CRM record without its full hash, the DLQ reason, the report and success', () => {
    // Act
    const text = formatSummary(result(), '/repo');

    // Assess
    expect(text).toMatch(/✓ GET \/guests\/281dc3a0… +200 +read the guest/);
    expect(text).toContain('version 2, emailHash aaaaaaaa…, attributes tier');
    expect(text).not.toContain(HASH);
    expect(text).toContain('VALIDATION_ERROR: 1');
    expect(text).toContain('refused  [the record the demo made the CRM refuse]');
    expect(text).toContain('reports/x.html');
    expect(text).toContain('✓ Everything behaved as the README documents.');
  });

  it.each([
    ['a wrong status', { steps: [{ title: 'prefill', method: 'POST', path: '/sessions/x/prefill', expected: 200, actual: 502, ok: false }] }, '✗ POST /sessions/x/prefill', '200'],
    ['an unexpected dead letter', { dlq: [{ messageId: 'm', jobId: 'guest-1', failureCode: 'INVALID_JOB', failureReason: 'bad', verdict: 'unexpected' as const }] }, '✗ guest-1', 'bad'],
    ['a missing record', { records: [{ externalId: 'cust-1001', from: 'pre-chat', found: false, ok: false, note: 'missing from the CRM' }] }, '✗ cust-1001', 'missing'],
  ])('marks %s with ✗ and lists the problems', (_case, overrides, marked, detail) => {
    // Act
    const text = formatSummary(result({ ok: false, problems: ['something'], ...(overrides as Partial<DemoResult>) }), '/repo');

    // Assess
    expect(text).toContain(marked);
    expect(text).toContain(detail);
    expect(text).toContain('✗ 1 thing(s) did not behave as documented:\n  - something');
  });
});

describe('readDeadLetters', () => {
  let sqs: EmbeddedSqs;
  beforeEach(async () => {
    sqs = await startEmbeddedSqs({ queueName: 'q', dlqName: 'q-dlq', visibilityTimeoutSeconds: 30, maxReceiveCount: 5, dlqRetentionSeconds: 1_209_600 });
  });
  afterEach(async () => {
    await sqs.close();
  });

  it('reads every dead letter with its job id, code and reason, and leaves them in the DLQ', async () => {
    // Prepare
    const text = (value: string) => ({ DataType: 'String', StringValue: value });
    await sqs.client.send(
      new SendMessageBatchCommand({
        QueueUrl: sqs.dlqUrl,
        Entries: Array.from({ length: 10 }, (_, index) => ({
          Id: String(index),
          MessageBody: '{}',
          MessageAttributes: { jobId: text(`job-${index}`), failureCode: text('VALIDATION_ERROR'), failureReason: text(`reason ${index}`) },
        })),
      }),
    );
    await sqs.client.send(
      new SendMessageBatchCommand({
        QueueUrl: sqs.dlqUrl,
        Entries: [
          { Id: 'a', MessageBody: '{}', MessageAttributes: { jobId: text('job-10'), failureCode: text('INVALID_JOB'), failureReason: text('not a job') } },
          { Id: 'b', MessageBody: '{}' },
        ],
      }),
    );

    // Act
    const first = await readDeadLetters(sqs.client, sqs.dlqUrl);
    const again = await readDeadLetters(sqs.client, sqs.dlqUrl);

    // Assess
    expect(first).toHaveLength(12);
    expect(first).toContainEqual(expect.objectContaining({ jobId: 'job-3', failureCode: 'VALIDATION_ERROR', failureReason: 'reason 3' }));
    expect(first).toContainEqual(expect.objectContaining({ jobId: 'job-10', failureCode: 'INVALID_JOB', failureReason: 'not a job' }));
    expect(first).toContainEqual(expect.objectContaining({ jobId: expect.stringMatching(/^message:/), failureCode: expect.stringContaining('moved by SQS') }));
    expect(again.map((letter) => letter.messageId).sort()).toEqual(first.map((letter) => letter.messageId).sort());
  });
});
