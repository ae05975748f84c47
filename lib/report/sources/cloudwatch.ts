/**
 * The AWS data source: CloudWatch `GetMetricData` for the suite's metrics (batches of at
 * most 500 queries, `NextToken` pagination, partial data reported, never hidden) and
 * `GetQueueAttributes` for the queues, plus the AWS/SQS age-of-oldest-message metric
 * (SQS has no attribute for it).
 *
 * Every metric carries a `function` dimension whose values the report does not know, so
 * queries are SEARCH expressions over the exact dimension schema: a plain series is the
 * SUM (or AVG, or MAX) of what the search finds, a breakdown returns one series per
 * dimension value, labelled with it through a dynamic label.
 */
import {
  GetMetricDataCommand,
  type CloudWatchClient,
  type MetricDataQuery,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { BASE_DIMENSIONS, EXTRA_DIMENSIONS, METRICS_NAMESPACE } from '../catalog.ts';
import { queueNameOf, readQueueCounts } from './queues.ts';
import type { FetchedSeries, MetricsFetch, QueueSnapshot, ReportDataSource, ReportWindow, SeriesQuery, Statistic } from '../types.ts';

/** GetMetricData's limit on queries per call. */
export const MAX_QUERIES_PER_REQUEST = 500;

/** What the CloudWatch source needs. */
export interface CloudWatchSourceOptions {
  cloudwatch: CloudWatchClient;
  sqs: SQSClient;
  stage: string;
  /** The `service` dimension (POWERTOOLS_SERVICE_NAME). */
  service: string;
  namespace?: string;
  queueUrl: string;
  dlqUrl?: string;
  /** Queries per GetMetricData call (at most 500; tests use fewer). */
  maxQueriesPerRequest?: number;
  /** Pages read per batch before giving up with a warning (bounds a runaway pagination). */
  maxPagesPerBatch?: number;
  now?: () => number;
}

const SAFE_VALUE = /^[A-Za-z0-9_.\-]+$/;

/** The aggregate that turns a search's series (one per function) into one series. */
const AGGREGATE: Record<Statistic, string> = {
  Sum: 'SUM',
  SampleCount: 'SUM',
  Average: 'AVG',
  Maximum: 'MAX',
  p50: 'MAX',
  p95: 'MAX',
  p99: 'MAX',
};

/** The GetMetricData query for one of the report's queries. */
export function toMetricDataQuery(
  query: SeriesQuery,
  window: ReportWindow,
  options: { stage: string; service: string; namespace?: string },
): MetricDataQuery {
  for (const value of [options.stage, options.service, options.namespace ?? METRICS_NAMESPACE]) {
    if (!SAFE_VALUE.test(value)) throw new Error(`"${value}" cannot be used in a CloudWatch search expression`);
  }
  const dimensions = [...BASE_DIMENSIONS, ...(EXTRA_DIMENSIONS[query.metric] ?? []), ...(query.groupBy ? [query.groupBy] : [])].sort();
  const schema = `{${options.namespace ?? METRICS_NAMESPACE},${dimensions.join(',')}}`;
  const period = query.scope === 'window' ? Math.round((window.end - window.start) / 1000) : window.bucketSeconds;
  const search = `SEARCH('${schema} MetricName="${query.metric}" stage="${options.stage}" service="${options.service}"', '${query.stat}', ${period})`;
  return query.groupBy
    ? { Id: query.id, Expression: search, Label: `\${PROP('Dim.${query.groupBy}')}`, ReturnData: true }
    : { Id: query.id, Expression: `${AGGREGATE[query.stat]}(${search})`, Label: query.id, ReturnData: true };
}

/** Splits a list into chunks of at most `size`. */
export function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Runs one batch of queries through every page; results of one id and label are joined. */
async function runBatch(
  client: CloudWatchClient,
  queries: MetricDataQuery[],
  window: ReportWindow,
  maxPages: number,
  warnings: string[],
): Promise<Map<string, { id: string; label: string | undefined; points: Array<{ timestamp: number; value: number }>; status: string | undefined }>> {
  const joined = new Map<string, { id: string; label: string | undefined; points: Array<{ timestamp: number; value: number }>; status: string | undefined }>();
  const grouped = new Set(queries.filter((q) => q.Label?.startsWith('${PROP(')).map((q) => q.Id));
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const page = await client.send(
      new GetMetricDataCommand({
        MetricDataQueries: queries,
        StartTime: new Date(window.start),
        EndTime: new Date(window.end),
        ScanBy: 'TimestampAscending',
        ...(nextToken ? { NextToken: nextToken } : {}),
      }),
    );
    pages += 1;
    for (const message of page.Messages ?? []) warnings.push(`CloudWatch: ${message.Code ?? 'message'} ${message.Value ?? ''}`.trim());
    for (const result of page.MetricDataResults ?? []) collect(joined, result, grouped);
    nextToken = page.NextToken;
  } while (nextToken && pages < maxPages);
  if (nextToken) warnings.push(`CloudWatch had more pages than the ${maxPages} read: the latest data points may be missing.`);
  return joined;
}

function collect(
  joined: Map<string, { id: string; label: string | undefined; points: Array<{ timestamp: number; value: number }>; status: string | undefined }>,
  result: MetricDataResult,
  grouped: Set<string | undefined>,
): void {
  const id = result.Id ?? '';
  const label = grouped.has(id) ? (result.Label ?? 'unknown') : undefined;
  const key = `${id}\u0000${label ?? ''}`;
  const entry = joined.get(key) ?? { id, label, points: [], status: undefined };
  const timestamps = result.Timestamps ?? [];
  const values = result.Values ?? [];
  for (let i = 0; i < Math.min(timestamps.length, values.length); i += 1) {
    const timestamp = new Date(timestamps[i] as Date).getTime();
    const value = values[i] as number;
    if (Number.isFinite(timestamp) && Number.isFinite(value)) entry.points.push({ timestamp, value });
  }
  // The last page's status is the one that counts (PartialData means "more on the next page").
  entry.status = result.StatusCode ?? entry.status;
  for (const message of result.Messages ?? []) entry.status = `${entry.status ?? ''} ${message.Code ?? ''}: ${message.Value ?? ''}`.trim();
  joined.set(key, entry);
}

/** The CloudWatch source (see the module comment). */
export function cloudWatchSource(options: CloudWatchSourceOptions): ReportDataSource {
  const maxPerRequest = Math.min(MAX_QUERIES_PER_REQUEST, options.maxQueriesPerRequest ?? MAX_QUERIES_PER_REQUEST);
  const maxPages = options.maxPagesPerBatch ?? 50;
  const now = options.now ?? Date.now;
  return {
    name: 'cloudwatch',
    async fetchSeries(window: ReportWindow, queries: readonly SeriesQuery[]): Promise<MetricsFetch> {
      const warnings: string[] = [];
      const metricQueries = queries.map((q) => toMetricDataQuery(q, window, options));
      const series: FetchedSeries[] = [];
      for (const batch of batches(metricQueries, maxPerRequest)) {
        const joined = await runBatch(options.cloudwatch, batch, window, maxPages, warnings);
        for (const entry of joined.values()) {
          if (entry.status && entry.status !== 'Complete') {
            warnings.push(`CloudWatch returned incomplete data for ${entry.id}${entry.label ? ` (${entry.label})` : ''}: ${entry.status}.`);
          }
          series.push({ queryId: entry.id, ...(entry.label === undefined ? {} : { label: entry.label }), points: entry.points });
        }
      }
      return { series, warnings };
    },
    async queueSnapshot(): Promise<QueueSnapshot | undefined> {
      const snapshot = await readQueueCounts(options.sqs, options.queueUrl, options.dlqUrl);
      if (!snapshot) return undefined;
      try {
        const end = Math.ceil(now() / 60_000) * 60_000;
        const result = await options.cloudwatch.send(
          new GetMetricDataCommand({
            MetricDataQueries: [
              {
                Id: 'oldestAge',
                MetricStat: {
                  Metric: { Namespace: 'AWS/SQS', MetricName: 'ApproximateAgeOfOldestMessage', Dimensions: [{ Name: 'QueueName', Value: queueNameOf(options.queueUrl) }] },
                  Period: 60,
                  Stat: 'Maximum',
                },
                ReturnData: true,
              },
            ],
            StartTime: new Date(end - 15 * 60_000),
            EndTime: new Date(end),
            ScanBy: 'TimestampDescending',
          }),
        );
        const latest = result.MetricDataResults?.[0]?.Values?.[0];
        snapshot.oldestAgeSeconds = typeof latest === 'number' && Number.isFinite(latest) ? latest : snapshot.backlog === 0 ? 0 : null;
      } catch (error) {
        snapshot.warnings.push(`The oldest message's age could not be read from CloudWatch (${error instanceof Error ? error.name : String(error)}).`);
      }
      return snapshot;
    },
  };
}
