import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandInput, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MetricNames } from '#lib/observability';
import { queryId, reportQueries } from '#lib/report/catalog.ts';
import { cloudWatchSource, toMetricDataQuery } from '#lib/report/sources/cloudwatch.ts';
import type { SeriesQuery } from '#lib/report/types.ts';
import { bucketAt, WINDOW } from '#test/unit/lib/report/fixtures.ts';

const cloudwatch = mockClient(CloudWatchClient);
const sqs = mockClient(SQSClient);
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/genesys-guest-sync-prod-crm-sync';
const DLQ_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/genesys-guest-sync-prod-crm-sync-dlq';

const source = (options: { maxQueriesPerRequest?: number } = {}) =>
  cloudWatchSource({
    cloudwatch: new CloudWatchClient({ region: 'eu-west-1' }),
    sqs: new SQSClient({ region: 'eu-west-1' }),
    stage: 'prod',
    service: 'genesys-guest-sync',
    queueUrl: QUEUE_URL,
    dlqUrl: DLQ_URL,
    now: () => Date.parse('2025-01-15T12:00:00Z'),
    ...options,
  });

/** N distinct queries (ids only matter for batching). */
const manyQueries = (n: number): SeriesQuery[] =>
  Array.from({ length: n }, (_, i) => ({ id: `q${i}`, metric: MetricNames.PrefillAttempts, stat: 'Sum' as const, scope: 'bucket' as const }));

beforeEach(() => {
  cloudwatch.reset();
  sqs.reset();
});
afterEach(() => {
  cloudwatch.reset();
  sqs.reset();
});

describe('query construction', () => {
  describe.each([
    {
      what: 'a plain counter',
      query: { id: 'prefillAttempts_sum_bucket', metric: MetricNames.PrefillAttempts, stat: 'Sum', scope: 'bucket' },
      expected: {
        Id: 'prefillAttempts_sum_bucket',
        Expression: `SUM(SEARCH('{GenesysGuestSync,function,service,stage} MetricName="PrefillAttempts" stage="prod" service="genesys-guest-sync"', 'Sum', 3600))`,
        Label: 'prefillAttempts_sum_bucket',
        ReturnData: true,
      },
    },
    {
      what: 'a breakdown, labelled by its dimension value',
      query: { id: 'prefillFailures_sum_bucket_by_reason', metric: MetricNames.PrefillFailures, stat: 'Sum', scope: 'bucket', groupBy: 'reason' },
      expected: {
        Id: 'prefillFailures_sum_bucket_by_reason',
        Expression: `SEARCH('{GenesysGuestSync,function,reason,service,stage} MetricName="PrefillFailures" stage="prod" service="genesys-guest-sync"', 'Sum', 3600)`,
        Label: "${PROP('Dim.reason')}",
        ReturnData: true,
      },
    },
    {
      what: 'a percentile over the whole window (worst function)',
      query: { id: 'prefillLatency_p95_window', metric: MetricNames.PrefillLatency, stat: 'p95', scope: 'window' },
      expected: {
        Id: 'prefillLatency_p95_window',
        Expression: `MAX(SEARCH('{GenesysGuestSync,function,service,stage} MetricName="PrefillLatency" stage="prod" service="genesys-guest-sync"', 'p95', 86400))`,
        Label: 'prefillLatency_p95_window',
        ReturnData: true,
      },
    },
    {
      what: "Powertools' cold starts (their extra function_name dimension)",
      query: { id: 'coldStart_sum_bucket', metric: MetricNames.ColdStart, stat: 'Sum', scope: 'bucket' },
      expected: {
        Id: 'coldStart_sum_bucket',
        Expression: `SUM(SEARCH('{GenesysGuestSync,function,function_name,service,stage} MetricName="ColdStart" stage="prod" service="genesys-guest-sync"', 'Sum', 3600))`,
        Label: 'coldStart_sum_bucket',
        ReturnData: true,
      },
    },
  ] as const)('$what', ({ query, expected }) => {
    it('becomes a SEARCH over the exact dimension schema', () => {
      expect(toMetricDataQuery(query as SeriesQuery, WINDOW, { stage: 'prod', service: 'genesys-guest-sync' })).toEqual(expected);
    });
  });

  it('refuses a stage that would break out of the search expression', () => {
    const query = reportQueries()[0]!;
    expect(() => toMetricDataQuery(query, WINDOW, { stage: `prod" OR stage="dev`, service: 'genesys-guest-sync' })).toThrow(/cannot be used/);
  });

  it('asks for the window, oldest first, with every report query once', async () => {
    // Prepare
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });

    // Act
    await source().fetchSeries(WINDOW, reportQueries());

    // Assess
    const calls = cloudwatch.commandCalls(GetMetricDataCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input).toMatchObject({ StartTime: new Date(WINDOW.start), EndTime: new Date(WINDOW.end), ScanBy: 'TimestampAscending' });
    expect(input.MetricDataQueries?.map((q) => q.Id)).toEqual(reportQueries().map((q) => q.id));
    for (const q of input.MetricDataQueries ?? []) expect(q.Id).toMatch(/^[a-z][A-Za-z0-9_]*$/);
  });
});

describe('batching', () => {
  describe.each([
    { queries: 500, expected: [500] },
    { queries: 501, expected: [500, 1] },
    { queries: 1201, expected: [500, 500, 201] },
  ])('$queries queries', ({ queries, expected }) => {
    it(`are sent in calls of ${expected.join(', ')}`, async () => {
      // Prepare
      cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
        MetricDataResults: (input.MetricDataQueries ?? []).map((q) => ({ Id: q.Id, Label: q.Label, Timestamps: [new Date(bucketAt(1))], Values: [1], StatusCode: 'Complete' })),
      }));

      // Act
      const fetched = await source().fetchSeries(WINDOW, manyQueries(queries));

      // Assess
      expect(cloudwatch.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input.MetricDataQueries?.length)).toEqual(expected);
      expect(fetched.series).toHaveLength(queries);
      expect(new Set(fetched.series.map((s) => s.queryId)).size).toBe(queries);
      expect(fetched.warnings).toEqual([]);
    });
  });
});

describe('pagination', () => {
  it('follows NextToken and joins the pages of each series and label', async () => {
    // Prepare
    const page = (results: MetricDataResult[], NextToken?: string) => ({ MetricDataResults: results, ...(NextToken ? { NextToken } : {}) });
    const attempts = queryId(MetricNames.PrefillAttempts, 'Sum', 'bucket');
    const failures = queryId(MetricNames.PrefillFailures, 'Sum', 'bucket', 'reason');
    cloudwatch
      .on(GetMetricDataCommand)
      .resolvesOnce(
        page(
          [
            { Id: attempts, Label: attempts, Timestamps: [new Date(bucketAt(0)), new Date(bucketAt(1))], Values: [3, 4], StatusCode: 'PartialData' },
            { Id: failures, Label: 'not_found', Timestamps: [new Date(bucketAt(1))], Values: [1], StatusCode: 'PartialData' },
          ],
          'page-2',
        ),
      )
      .resolvesOnce(
        page([
          { Id: attempts, Label: attempts, Timestamps: [new Date(bucketAt(2))], Values: [5], StatusCode: 'Complete' },
          { Id: failures, Label: 'not_found', Timestamps: [new Date(bucketAt(2))], Values: [2], StatusCode: 'Complete' },
          { Id: failures, Label: 'throttled', Timestamps: [new Date(bucketAt(2))], Values: [1], StatusCode: 'Complete' },
        ]),
      );

    // Act
    const fetched = await source().fetchSeries(WINDOW, reportQueries());

    // Assess
    const calls = cloudwatch.commandCalls(GetMetricDataCommand);
    expect(calls.map((c) => c.args[0].input.NextToken)).toEqual([undefined, 'page-2']);
    expect(fetched.series.find((s) => s.queryId === attempts)?.points).toEqual([
      { timestamp: bucketAt(0), value: 3 },
      { timestamp: bucketAt(1), value: 4 },
      { timestamp: bucketAt(2), value: 5 },
    ]);
    expect(fetched.series.filter((s) => s.queryId === failures).map((s) => [s.label, s.points.length])).toEqual([
      ['not_found', 2],
      ['throttled', 1],
    ]);
    expect(fetched.warnings).toEqual([]);
  });

  it('stops after the page limit and says the latest points may be missing', async () => {
    // Prepare
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [], NextToken: 'again' });

    // Act
    const fetched = await cloudWatchSource({
      cloudwatch: new CloudWatchClient({ region: 'eu-west-1' }),
      sqs: new SQSClient({ region: 'eu-west-1' }),
      stage: 'prod',
      service: 'genesys-guest-sync',
      queueUrl: QUEUE_URL,
      maxPagesPerBatch: 3,
    }).fetchSeries(WINDOW, manyQueries(2));

    // Assess
    expect(cloudwatch.commandCalls(GetMetricDataCommand)).toHaveLength(3);
    expect(fetched.warnings).toEqual(['CloudWatch had more pages than the 3 read: the latest data points may be missing.']);
  });
});

describe('partial data', () => {
  it('keeps what came back and names every series that is incomplete', async () => {
    // Prepare
    cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'q0', Label: 'q0', Timestamps: [new Date(bucketAt(5))], Values: [2], StatusCode: 'PartialData' },
        { Id: 'q1', Label: 'q1', Timestamps: [], Values: [], StatusCode: 'InternalError', Messages: [{ Code: 'InternalError', Value: 'try later' }] },
        { Id: 'q2', Label: 'q2', Timestamps: [new Date(bucketAt(6))], Values: [1], StatusCode: 'Complete' },
      ],
      Messages: [{ Code: 'MaxMetricsExceeded', Value: 'search returned more than 500 series' }],
    });

    // Act
    const fetched = await source().fetchSeries(WINDOW, manyQueries(3));

    // Assess
    expect(fetched.series.find((s) => s.queryId === 'q0')?.points).toEqual([{ timestamp: bucketAt(5), value: 2 }]);
    expect(fetched.warnings).toEqual([
      'CloudWatch: MaxMetricsExceeded search returned more than 500 series',
      'CloudWatch returned incomplete data for q0: PartialData.',
      'CloudWatch returned incomplete data for q1: InternalError InternalError: try later.',
    ]);
  });

  it('fails when CloudWatch refuses the call (the scheduled run fails and is retried)', async () => {
    cloudwatch.on(GetMetricDataCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    await expect(source().fetchSeries(WINDOW, manyQueries(1))).rejects.toThrow('denied');
  });
});

describe('the queue snapshot', () => {
  it('reads both queues and the age of the oldest message from AWS/SQS', async () => {
    // Prepare
    sqs.on(GetQueueAttributesCommand, { QueueUrl: QUEUE_URL }).resolves({ Attributes: { ApproximateNumberOfMessages: '340', ApproximateNumberOfMessagesNotVisible: '20', ApproximateNumberOfMessagesDelayed: '0' } });
    sqs.on(GetQueueAttributesCommand, { QueueUrl: DLQ_URL }).resolves({ Attributes: { ApproximateNumberOfMessages: '12', ApproximateNumberOfMessagesNotVisible: '0', ApproximateNumberOfMessagesDelayed: '0' } });
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'oldestAge', Values: [1500, 1440], Timestamps: [new Date(), new Date()] }] });

    // Act
    const snapshot = await source().queueSnapshot();

    // Assess
    expect(snapshot).toEqual({ backlog: 340, inFlight: 20, delayed: 0, oldestAgeSeconds: 1500, dlqDepth: 12, warnings: [] });
    const query = cloudwatch.commandCalls(GetMetricDataCommand)[0]!.args[0].input.MetricDataQueries?.[0];
    expect(query?.MetricStat?.Metric).toEqual({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: 'genesys-guest-sync-prod-crm-sync' }],
    });
    expect(sqs.commandCalls(GetQueueAttributesCommand).map((c) => c.args[0].input.AttributeNames)).toEqual([
      ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
      ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    ]);
  });

  it('is missing when the queue cannot be read, and notes an unreadable DLQ', async () => {
    // Prepare
    sqs.on(GetQueueAttributesCommand, { QueueUrl: QUEUE_URL }).rejects(Object.assign(new Error('no'), { name: 'AccessDenied' }));
    const unreadable = await source().queueSnapshot();
    sqs.reset();
    sqs.on(GetQueueAttributesCommand, { QueueUrl: QUEUE_URL }).resolves({ Attributes: { ApproximateNumberOfMessages: '0' } });
    sqs.on(GetQueueAttributesCommand, { QueueUrl: DLQ_URL }).rejects(Object.assign(new Error('no'), { name: 'AccessDenied' }));
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'oldestAge', Values: [] }] });

    // Act
    const partial = await source().queueSnapshot();

    // Assess
    expect(unreadable).toBeUndefined();
    expect(partial).toMatchObject({ backlog: 0, dlqDepth: null, oldestAgeSeconds: 0, warnings: ['The DLQ could not be read (AccessDenied).'] });
  });
});
