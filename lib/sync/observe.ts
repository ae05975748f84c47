/**
 * What the worker tells operators about a batch: EMF metrics and one log line with the
 * counts. Job ids of dead letters may be logged (they are digests); record contents never.
 */
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricNames } from '#lib/observability';
import type { BatchReport } from './processor.ts';

/** Most job ids listed per failure code in the batch log line. */
const MAX_LOGGED_JOB_IDS = 10;

/** Emits the batch's metrics; breakdowns (`status`, `reason`) go out as single metrics. */
export function publishBatchMetrics(report: BatchReport, metrics: Metrics): void {
  const { summary } = report;
  metrics.addMetric(MetricNames.CrmRecordsReceived, MetricUnit.Count, summary.received);
  metrics.addMetric(MetricNames.CrmRecordsCoalesced, MetricUnit.Count, summary.coalesced);
  metrics.addMetric(MetricNames.CrmRecordsRetried, MetricUnit.Count, summary.retried);
  metrics.addMetric(MetricNames.CrmRecordsDeferred, MetricUnit.Count, summary.deferred);
  metrics.addMetric(MetricNames.CrmChunks, MetricUnit.Count, summary.chunks);
  metrics.addMetric(MetricNames.JobsSuperseded, MetricUnit.Count, summary.superseded);
  metrics.addMetric(MetricNames.CrmChunksReplayed, MetricUnit.Count, summary.chunksReplayed);
  metrics.addMetric(MetricNames.CrmRecordsFailedPermanently, MetricUnit.Count, summary.deadLettered);
  for (const latency of summary.requestLatenciesMs) {
    metrics.addMetric(MetricNames.CrmChunkLatency, MetricUnit.Milliseconds, Math.round(latency));
  }
  for (const [status, count] of Object.entries(summary.upserted)) {
    if (count === 0) continue;
    const single = metrics.singleMetric();
    single.addDimension('status', status);
    single.addMetric(MetricNames.CrmRecordsUpserted, MetricUnit.Count, count);
  }
  for (const [reason, count] of Object.entries(summary.failedPermanently)) {
    const single = metrics.singleMetric();
    single.addDimension('reason', reason);
    single.addMetric(MetricNames.CrmRecordsFailedPermanently, MetricUnit.Count, count);
  }
}

/** The one log line per batch: counts only, plus a few dead-lettered job ids per code. */
export function logBatch(report: BatchReport, logger: Logger, extra: Record<string, unknown> = {}): void {
  const { summary } = report;
  const deadLettered = Object.fromEntries(
    Object.entries(report.deadLetteredJobIds).map(([code, ids]) => [code, { count: ids.length, jobIds: ids.slice(0, MAX_LOGGED_JOB_IDS) }]),
  );
  const line = {
    received: summary.received,
    invalid: summary.invalid,
    coalesced: summary.coalesced,
    superseded: summary.superseded,
    chunksReplayed: summary.chunksReplayed,
    records: summary.records,
    chunks: summary.chunks,
    requests: summary.requests,
    replayed: summary.replayed,
    upserted: summary.upserted,
    retried: summary.retried,
    deadLettered: summary.deadLettered,
    deferred: summary.deferred,
    breakerRejected: summary.breakerRejected,
    resent: summary.resent,
    ...(summary.pause ? { pause: { kind: summary.pause.kind, ...(summary.pause.until === undefined ? {} : { until: new Date(summary.pause.until).toISOString() }) } } : {}),
    ...(summary.deadLettered > 0 ? { deadLetteredByCode: deadLettered } : {}),
    ...extra,
  };
  if (report.unexpectedError) logger.error('CRM sync batch', { ...line, error: report.unexpectedError });
  else if (summary.deadLettered > 0 || summary.deferred > 0) logger.warn('CRM sync batch', line);
  else logger.info('CRM sync batch', line);
}
