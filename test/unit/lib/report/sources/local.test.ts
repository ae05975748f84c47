import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricNames } from '#lib/observability';
import { queryId, reportQueries } from '#lib/report/catalog.ts';
import type { EmfSample } from '#lib/report/sources/emf.ts';
import { localEmfSource, seriesFromSamples } from '#lib/report/sources/local.ts';
import type { SeriesQuery } from '#lib/report/types.ts';
import { startEmbeddedSqs, type EmbeddedSqs } from '#local/sqs.ts';
import { bucketAt, WINDOW } from '#test/unit/lib/report/fixtures.ts';

/** An EMF line as the shared Powertools instance prints it. */
function emfLine(timestamp: number, metrics: Record<string, number | number[]>, extra: Record<string, string> = {}, stage = 'local'): string {
  const dimensions = { service: 'genesys-guest-sync', stage, function: 'genesys-guest-sync-local-prefill', ...extra };
  return JSON.stringify({
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [{ Namespace: 'GenesysGuestSync', Dimensions: [Object.keys(dimensions)], Metrics: Object.keys(metrics).map((Name) => ({ Name, Unit: 'Count' })) }],
    },
    ...dimensions,
    ...metrics,
  });
}

const sample = (metric: string, timestamp: number, values: number[], extra: Record<string, string> = {}): EmfSample => ({
  namespace: 'GenesysGuestSync',
  metric,
  timestamp,
  values,
  dimensions: { service: 'genesys-guest-sync', stage: 'local', function: 'f', ...extra },
});

const q = (metric: (typeof MetricNames)[keyof typeof MetricNames], stat: SeriesQuery['stat'], scope: 'bucket' | 'window' = 'bucket', groupBy?: 'reason' | 'status'): SeriesQuery => ({
  id: queryId(metric, stat, scope, groupBy),
  metric,
  stat,
  scope,
  ...(groupBy ? { groupBy } : {}),
});

describe('answering queries from EMF samples', () => {
  const latencies = Array.from({ length: 100 }, (_, i) => i + 1);

  describe.each([
    { stat: 'p50', expected: 50 },
    { stat: 'p95', expected: 95 },
    { stat: 'p99', expected: 99 },
    { stat: 'Average', expected: 50.5 },
    { stat: 'SampleCount', expected: 100 },
    { stat: 'Maximum', expected: 100 },
  ] as const)('$stat of the latencies 1..100', ({ stat, expected }) => {
    it(`is ${expected} over the window`, () => {
      // Prepare: split over two buckets and two lines
      const samples = [sample('PrefillLatency', bucketAt(3), latencies.slice(0, 60)), sample('PrefillLatency', bucketAt(9), latencies.slice(60))];

      // Act
      const [series] = seriesFromSamples(samples, WINDOW, [q(MetricNames.PrefillLatency, stat, 'window')], { stage: 'local' });

      // Assess
      expect(series?.points).toEqual([{ timestamp: WINDOW.start, value: expected }]);
    });
  });

  it('sums a counter per bucket, only for the stage, only inside the window', () => {
    // Prepare
    const samples = [
      sample('PrefillAttempts', bucketAt(2), [1]),
      sample('PrefillAttempts', bucketAt(2) + 59_000, [1, 1]),
      sample('PrefillAttempts', bucketAt(23), [1]),
      { ...sample('PrefillAttempts', bucketAt(2), [5]), dimensions: { service: 'genesys-guest-sync', stage: 'prod', function: 'f' } },
      sample('PrefillAttempts', WINDOW.end, [9]),
    ];

    // Act
    const [series] = seriesFromSamples(samples, WINDOW, [q(MetricNames.PrefillAttempts, 'Sum')], { stage: 'local' });

    // Assess
    expect(series?.points).toEqual([
      { timestamp: bucketAt(2), value: 3 },
      { timestamp: bucketAt(23), value: 1 },
    ]);
  });

  it('answers a plain query from samples without a breakdown and a grouped one per label', () => {
    // Prepare
    const samples = [
      sample('CrmRecordsFailedPermanently', bucketAt(1), [3]),
      sample('CrmRecordsFailedPermanently', bucketAt(1), [2], { reason: 'VALIDATION_ERROR' }),
      sample('CrmRecordsFailedPermanently', bucketAt(1), [1], { reason: 'CONFLICT' }),
      sample('ColdStart', bucketAt(1), [1], { function_name: 'f' }),
    ];
    const queries = [q(MetricNames.CrmRecordsFailedPermanently, 'Sum'), q(MetricNames.CrmRecordsFailedPermanently, 'Sum', 'bucket', 'reason'), q(MetricNames.ColdStart, 'Sum')];

    // Act
    const series = seriesFromSamples(samples, WINDOW, queries, { stage: 'local' });

    // Assess
    expect(series.map((s) => [s.queryId, s.label, s.points[0]?.value])).toEqual([
      ['crmRecordsFailedPermanently_sum_bucket', undefined, 3],
      ['crmRecordsFailedPermanently_sum_bucket_by_reason', 'VALIDATION_ERROR', 2],
      ['crmRecordsFailedPermanently_sum_bucket_by_reason', 'CONFLICT', 1],
      ['coldStart_sum_bucket', undefined, 1],
    ]);
  });
});

describe('the local source', () => {
  let sqs: EmbeddedSqs;
  let folder: string;

  beforeAll(async () => {
    sqs = await startEmbeddedSqs({ queueName: 'crm-sync', dlqName: 'crm-sync-dlq', visibilityTimeoutSeconds: 30, maxReceiveCount: 5, dlqRetentionSeconds: 1_209_600 });
    folder = await mkdtemp(join(tmpdir(), 'emf-'));
  });
  afterAll(async () => {
    await sqs.close();
    await rm(folder, { recursive: true, force: true });
  });

  it('reads the EMF file (log lines and torn lines skipped) and inspects the queues without consuming them', async () => {
    // Prepare
    const file = join(folder, 'emf.jsonl');
    await writeFile(
      file,
      [
        emfLine(bucketAt(4), { PrefillAttempts: 1, PrefillSuccesses: 1, PrefillLatency: [120, 80] }),
        '{"level":"INFO","message":"not a metric"}',
        emfLine(bucketAt(4), { PrefillFailures: 1 }, { reason: 'not_found' }),
        'offline: GET /health (λ: health)',
        emfLine(bucketAt(4), { PrefillAttempts: 1 }),
        '{"_aws":{"Timestamp":',
      ].join('\n'),
    );
    const now = Date.now();
    await sqs.client.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: '{}' }));
    for (const code of ['VALIDATION_ERROR', 'VALIDATION_ERROR', undefined]) {
      await sqs.client.send(
        new SendMessageCommand({
          QueueUrl: sqs.dlqUrl,
          MessageBody: '{}',
          ...(code ? { MessageAttributes: { failureCode: { DataType: 'String', StringValue: code } } } : {}),
        }),
      );
    }
    const source = localEmfSource({ metricsFile: file, stage: 'local', sqs: sqs.client, sqsEndpoint: sqs.endpoint, queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl, now: () => now + 42_000 });

    // Act
    const fetched = await source.fetchSeries(WINDOW, reportQueries());
    const snapshot = await source.queueSnapshot();
    const again = await source.queueSnapshot();

    // Assess
    const value = (id: string, label?: string) => fetched.series.find((s) => s.queryId === id && s.label === label)?.points[0]?.value;
    expect(value('prefillAttempts_sum_bucket')).toBe(2);
    expect(value('prefillSuccesses_sum_bucket')).toBe(1);
    expect(value('prefillFailures_sum_bucket_by_reason', 'not_found')).toBe(1);
    expect(value('prefillLatency_average_bucket')).toBe(100);
    expect(snapshot).toMatchObject({ backlog: 1, inFlight: 0, dlqDepth: 3, dlqFailureCodes: { VALIDATION_ERROR: 2, unknown: 1 }, warnings: [] });
    expect(snapshot?.oldestAgeSeconds).toBeGreaterThanOrEqual(41);
    expect(again?.dlqDepth).toBe(3);
    expect(again?.backlog).toBe(1);
  });

  it('treats a missing EMF file as no traffic', async () => {
    const source = localEmfSource({ metricsFile: join(folder, 'none.jsonl'), stage: 'local', sqs: sqs.client, queueUrl: sqs.queueUrl });
    expect(await source.fetchSeries(WINDOW, reportQueries())).toEqual({ series: [], warnings: [] });
  });

  it('says what it cannot tell without the inspection endpoint', async () => {
    const source = localEmfSource({ metricsFile: join(folder, 'none.jsonl'), stage: 'local', sqs: sqs.client, queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl });
    const snapshot = await source.queueSnapshot();
    expect(snapshot?.oldestAgeSeconds).toBeNull();
    expect(snapshot?.warnings).toEqual(['The local SQS cannot be inspected: oldest message age and DLQ failure codes are unknown.']);
  });
});
