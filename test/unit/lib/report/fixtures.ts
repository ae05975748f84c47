/** Fixture series for the metrics report tests: values by bucket, in a fixed 24-hour window. */
import { MetricNames, type MetricName } from '#lib/observability';
import { queryId } from '#lib/report/catalog.ts';
import type { FetchedSeries, QueueSnapshot, Statistic } from '#lib/report/types.ts';
import { reportWindow } from '#lib/report/window.ts';

/** The fixed window: 24 hourly buckets ending 2025-01-15T12:00Z. */
export const WINDOW = reportWindow({ end: Date.parse('2025-01-15T12:00:00Z') });
export const HOUR = 3_600_000;
/** The start of bucket `i` (0..23; 23 is the last hour). */
export const bucketAt = (i: number): number => WINDOW.start + i * HOUR;

/** One series: `{bucket: value}`; a window-scope series takes one value. */
export function series(metric: MetricName, stat: Statistic, values: Record<number, number>, label?: string, groupBy?: 'reason' | 'status'): FetchedSeries {
  return {
    queryId: queryId(metric, stat, 'bucket', groupBy),
    ...(label === undefined ? {} : { label }),
    points: Object.entries(values).map(([i, value]) => ({ timestamp: bucketAt(Number(i)), value })),
  };
}

/** A window-scope series (one value). */
export function windowSeries(metric: MetricName, stat: Statistic, value: number): FetchedSeries {
  return { queryId: queryId(metric, stat, 'window'), points: [{ timestamp: WINDOW.start, value }] };
}

/** Counter shorthand. */
export const sum = (metric: MetricName, values: Record<number, number>): FetchedSeries => series(metric, 'Sum', values);

/** A breakdown series (one label). */
export const byReason = (metric: MetricName, label: string, values: Record<number, number>, groupBy: 'reason' | 'status' = 'reason'): FetchedSeries =>
  series(metric, 'Sum', values, label, groupBy);

/** An empty queue snapshot, with overrides. */
export function queue(overrides: Partial<QueueSnapshot> = {}): QueueSnapshot {
  return { backlog: 0, inFlight: 0, delayed: 0, oldestAgeSeconds: 0, dlqDepth: 0, warnings: [], ...overrides };
}

/** A busy day: prefill, webhooks, CRM sync, latencies and guests in several buckets. */
export function busyDay(): FetchedSeries[] {
  return [
    sum(MetricNames.PrefillAttempts, { 2: 40, 10: 30, 23: 30 }),
    sum(MetricNames.PrefillSuccesses, { 2: 40, 10: 28, 23: 29 }),
    byReason(MetricNames.PrefillFailures, 'not_found', { 10: 2 }),
    byReason(MetricNames.PrefillFailures, 'throttled', { 23: 1 }),
    series(MetricNames.PrefillLatency, 'Average', { 2: 200, 10: 300, 23: 400 }),
    series(MetricNames.PrefillLatency, 'SampleCount', { 2: 40, 10: 30, 23: 30 }),
    series(MetricNames.PrefillLatency, 'p50', { 2: 180, 10: 250, 23: 380 }),
    series(MetricNames.PrefillLatency, 'p95', { 2: 400, 10: 600, 23: 900 }),
    series(MetricNames.PrefillLatency, 'p99', { 2: 500, 10: 800, 23: 1200 }),
    windowSeries(MetricNames.PrefillLatency, 'p50', 260),
    windowSeries(MetricNames.PrefillLatency, 'p95', 700),
    windowSeries(MetricNames.PrefillLatency, 'p99', 1100),
    sum(MetricNames.WebhookAccepted, { 5: 12, 23: 3 }),
    sum(MetricNames.WebhookIgnored, { 5: 4 }),
    byReason(MetricNames.WebhookRejected, 'signature', { 6: 2 }),
    sum(MetricNames.CrmRecordsReceived, { 3: 50, 11: 40 }),
    byReason(MetricNames.CrmRecordsUpserted, 'created', { 3: 30, 11: 20 }, 'status'),
    byReason(MetricNames.CrmRecordsUpserted, 'updated', { 3: 15, 11: 18 }, 'status'),
    sum(MetricNames.CrmRecordsCoalesced, { 3: 5 }),
    sum(MetricNames.JobsSuperseded, { 3: 4, 11: 1 }),
    sum(MetricNames.CrmChunksReplayed, { 11: 1 }),
    sum(MetricNames.CrmRecordsFailedPermanently, { 11: 2 }),
    byReason(MetricNames.CrmRecordsFailedPermanently, 'VALIDATION_ERROR', { 11: 2 }),
    sum(MetricNames.CrmChunks, { 3: 1, 11: 1 }),
    sum(MetricNames.GuestEngagementSessions, { 8: 4 }),
    series(MetricNames.GuestSessionDuration, 'Average', { 8: 600 }),
    series(MetricNames.GuestSessionDuration, 'SampleCount', { 8: 4 }),
    sum(MetricNames.GuestConversions, { 8: 1 }),
    sum(MetricNames.ColdStart, { 2: 3, 10: 1 }),
  ];
}
