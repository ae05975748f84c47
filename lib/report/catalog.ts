/**
 * Which series the report reads: the metric names of `#lib/observability`, each with the
 * statistics and breakdowns the report shows. Both data sources answer this same list.
 */
import { MetricDimensions, MetricNames, type MetricDimension, type MetricName } from '#lib/observability';
import type { SeriesQuery, Statistic } from './types.ts';

/** The namespace every function emits into (the shared Powertools instance). */
export const METRICS_NAMESPACE = 'GenesysGuestSync';

/** The dimensions every metric carries (Powertools adds `service`; the shared instance adds the rest). */
export const BASE_DIMENSIONS = ['service', 'stage', 'function'] as const;

/** Dimensions some metrics carry beyond the base ones and any breakdown. */
export const EXTRA_DIMENSIONS: Partial<Record<MetricName, readonly string[]>> = {
  [MetricNames.ColdStart]: ['function_name'],
};

/** Counters summed per bucket. */
const COUNTERS: readonly MetricName[] = [
  MetricNames.PrefillAttempts,
  MetricNames.PrefillSuccesses,
  MetricNames.PrefillFailures,
  MetricNames.WebhookAccepted,
  MetricNames.WebhookIgnored,
  MetricNames.WebhookRejected,
  MetricNames.CrmRecordsReceived,
  MetricNames.CrmRecordsUpserted,
  MetricNames.CrmRecordsCoalesced,
  MetricNames.JobsSuperseded,
  MetricNames.CrmChunksReplayed,
  MetricNames.CrmRecordsFailedPermanently,
  MetricNames.CrmRecordsRetried,
  MetricNames.CrmChunks,
  MetricNames.CrmBreakerOpened,
  MetricNames.JobsKeptInOutbox,
  MetricNames.OutboxSent,
  MetricNames.GuestEngagementSessions,
  MetricNames.GuestConversions,
  MetricNames.ColdStart,
];

/** Counters also emitted with a breakdown dimension (the report reads both; see `totalOf`). */
export const BREAKDOWNS: Partial<Record<MetricName, MetricDimension>> = {
  [MetricNames.PrefillFailures]: MetricDimensions.reason,
  [MetricNames.WebhookRejected]: MetricDimensions.reason,
  [MetricNames.CrmRecordsUpserted]: MetricDimensions.status,
  [MetricNames.CrmRecordsFailedPermanently]: MetricDimensions.reason,
};

/** Latencies: average, sample count and percentiles per bucket, percentiles over the window. */
const LATENCIES: readonly MetricName[] = [MetricNames.PrefillLatency, MetricNames.CrmChunkLatency];
const LATENCY_BUCKET_STATS: readonly Statistic[] = ['Average', 'SampleCount', 'p50', 'p95', 'p99'];
const LATENCY_WINDOW_STATS: readonly Statistic[] = ['p50', 'p95', 'p99'];

/** Gauges the report itself records on each run (the backlog chart). */
const GAUGES: readonly MetricName[] = [MetricNames.QueueBacklog, MetricNames.DlqDepth, MetricNames.QueueOldestMessageAge];

/** The id of a query, usable as a CloudWatch MetricDataQuery id. */
export function queryId(metric: MetricName, stat: Statistic, scope: 'bucket' | 'window', groupBy?: MetricDimension): string {
  const name = `${metric.charAt(0).toLowerCase()}${metric.slice(1)}`;
  return `${name}_${stat.toLowerCase()}_${scope}${groupBy ? `_by_${groupBy}` : ''}`;
}

const query = (metric: MetricName, stat: Statistic, scope: 'bucket' | 'window', groupBy?: MetricDimension): SeriesQuery => ({
  id: queryId(metric, stat, scope, groupBy),
  metric,
  stat,
  scope,
  ...(groupBy ? { groupBy } : {}),
});

/** Every query the report makes, in a stable order. */
export function reportQueries(): SeriesQuery[] {
  const queries: SeriesQuery[] = [];
  for (const metric of COUNTERS) {
    queries.push(query(metric, 'Sum', 'bucket'));
    const groupBy = BREAKDOWNS[metric];
    if (groupBy) queries.push(query(metric, 'Sum', 'bucket', groupBy));
  }
  for (const metric of LATENCIES) {
    for (const stat of LATENCY_BUCKET_STATS) queries.push(query(metric, stat, 'bucket'));
    for (const stat of LATENCY_WINDOW_STATS) queries.push(query(metric, stat, 'window'));
  }
  queries.push(query(MetricNames.GuestSessionDuration, 'Average', 'bucket'));
  queries.push(query(MetricNames.GuestSessionDuration, 'SampleCount', 'bucket'));
  for (const metric of GAUGES) queries.push(query(metric, 'Maximum', 'bucket'));
  return queries;
}
