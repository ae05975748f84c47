/**
 * The report builder: fetched series and a queue snapshot in, the report document out.
 * Pure: no clock, no I/O, so every figure is checked on fixture series.
 */
import { MetricNames, type MetricName } from '#lib/observability';
import { BREAKDOWNS, queryId } from './catalog.ts';
import { findingsFor } from './findings.ts';
import { isAdditive } from './stats.ts';
import type {
  CrmStats,
  EngagementStats,
  FetchedSeries,
  HealthScore,
  LatencyStats,
  MetricsFetch,
  MetricsReport,
  PrefillStats,
  QueueReport,
  QueueSnapshot,
  ReportWindow,
  Statistic,
  WebhookStats,
} from './types.ts';
import { bucketCount, bucketIndex, bucketStarts, lastHourBucketCount } from './window.ts';

/** The session start rate at or above which prefill is healthy. */
export const HEALTHY_START_RATE = 0.95;

/** Everything the builder needs. */
export interface ReportInput {
  window: ReportWindow;
  stage: string;
  /** The data source's name. */
  source: string;
  generatedAt: Date | number;
  fetch: MetricsFetch;
  /** The queues now; undefined when they could not be read. */
  queue: QueueSnapshot | undefined;
}

/** The prefill health score for a start rate over a number of attempts. */
export function healthScore(attempts: number, startRate: number | null): HealthScore {
  if (attempts === 0 || startRate === null) return 'no-traffic';
  return startRate >= HEALTHY_START_RATE ? 'healthy' : 'degraded';
}

type Buckets = Array<number | null>;

/** The fetched series, placed in the window's buckets. */
class SeriesIndex {
  private readonly byQuery = new Map<string, FetchedSeries[]>();
  readonly size: number;

  constructor(
    private readonly window: ReportWindow,
    series: readonly FetchedSeries[],
  ) {
    this.size = bucketCount(window);
    for (const one of series) {
      const list = this.byQuery.get(one.queryId) ?? [];
      list.push(one);
      this.byQuery.set(one.queryId, list);
    }
  }

  /** One series in buckets; several points in one bucket combine by the statistic. */
  private place(series: FetchedSeries, stat: Statistic): Buckets {
    const buckets: Buckets = new Array(this.size).fill(null);
    for (const point of series.points) {
      if (!Number.isFinite(point.value)) continue;
      const index = bucketIndex(this.window, point.timestamp);
      if (index < 0) continue;
      const current = buckets[index] ?? null;
      buckets[index] = current === null ? point.value : isAdditive(stat) ? current + point.value : Math.max(current, point.value);
    }
    return buckets;
  }

  /**
   * A query's values per bucket, several series (functions) combined: added up for sums
   * and counts, averaged for averages, the largest for maxima and percentiles (several
   * functions' percentiles cannot be merged exactly; the worst one is the honest figure).
   */
  buckets(id: string, stat: Statistic): Buckets {
    const placed = (this.byQuery.get(id) ?? []).filter((s) => s.label === undefined).map((s) => this.place(s, stat));
    return combine(placed, stat, this.size);
  }

  /** A grouped query's values per label, per bucket. */
  grouped(id: string, stat: Statistic): Map<string, Buckets> {
    const byLabel = new Map<string, Buckets[]>();
    for (const series of this.byQuery.get(id) ?? []) {
      const label = series.label ?? 'unknown';
      byLabel.set(label, [...(byLabel.get(label) ?? []), this.place(series, stat)]);
    }
    return new Map([...byLabel].map(([label, list]) => [label, combine(list, stat, this.size)]));
  }

  /** A window-scope query's one value (several series combined as in `buckets`). */
  windowValue(id: string, stat: Statistic): number | null {
    const values = (this.byQuery.get(id) ?? []).flatMap((s) => s.points.map((p) => p.value)).filter(Number.isFinite);
    if (values.length === 0) return null;
    if (isAdditive(stat)) return values.reduce((a, b) => a + b, 0);
    if (stat === 'Average') return values.reduce((a, b) => a + b, 0) / values.length;
    return Math.max(...values);
  }

  /** Whether a query returned any data point at all. */
  has(id: string): boolean {
    return (this.byQuery.get(id) ?? []).some((s) => s.points.length > 0);
  }
}

function combine(list: Buckets[], stat: Statistic, size: number): Buckets {
  return Array.from({ length: size }, (_, i) => {
    const values = list.map((b) => b[i] ?? null).filter((v): v is number => v !== null);
    if (values.length === 0) return null;
    if (isAdditive(stat)) return values.reduce((a, b) => a + b, 0);
    if (stat === 'Average') return values.reduce((a, b) => a + b, 0) / values.length;
    return Math.max(...values);
  });
}

/** A span of buckets: the whole window or the last hour. */
interface Span {
  from: number;
  to: number;
}

const sum = (buckets: Buckets, span: Span): number => {
  let total = 0;
  for (let i = span.from; i < span.to; i += 1) total += buckets[i] ?? 0;
  return total;
};

const round = (value: number | null, digits = 1): number | null =>
  value === null ? null : Math.round(value * 10 ** digits) / 10 ** digits;

/** Reads the report's figures out of the indexed series. */
class Figures {
  constructor(private readonly index: SeriesIndex) {}

  /** A counter per bucket. */
  counter(metric: MetricName): Buckets {
    return this.index.buckets(queryId(metric, 'Sum', 'bucket'), 'Sum');
  }

  /**
   * A counter's total per bucket. A counter with a breakdown may be emitted as a plain
   * total, as breakdown series only, or both: the plain series wins when it has data,
   * else the breakdown series add up to the total.
   */
  total(metric: MetricName): Buckets {
    const plainId = queryId(metric, 'Sum', 'bucket');
    const groupBy = BREAKDOWNS[metric];
    if (!groupBy || this.index.has(plainId)) return this.counter(metric);
    const grouped = [...this.index.grouped(queryId(metric, 'Sum', 'bucket', groupBy), 'Sum').values()];
    return combine(grouped, 'Sum', this.index.size);
  }

  /** A counter's breakdown over a span, largest first, zeros left out. */
  breakdown(metric: MetricName, span: Span): Record<string, number> {
    const groupBy = BREAKDOWNS[metric];
    if (!groupBy) return {};
    const entries = [...this.index.grouped(queryId(metric, 'Sum', 'bucket', groupBy), 'Sum')]
      .map(([label, buckets]) => [label, sum(buckets, span)] as const)
      .filter(([, count]) => count > 0)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    return Object.fromEntries(entries);
  }

  latency(metric: MetricName, span: Span, wholeWindow: boolean): LatencyStats {
    const avg = this.index.buckets(queryId(metric, 'Average', 'bucket'), 'Average');
    const count = this.index.buckets(queryId(metric, 'SampleCount', 'bucket'), 'SampleCount');
    let samples = 0;
    let weighted = 0;
    for (let i = span.from; i < span.to; i += 1) {
      const n = count[i] ?? 0;
      const a = avg[i];
      if (n > 0 && a !== null && a !== undefined) {
        samples += n;
        weighted += a * n;
      }
    }
    const pct = (stat: 'p50' | 'p95' | 'p99'): number | null => {
      if (samples === 0) return null;
      if (wholeWindow) return this.index.windowValue(queryId(metric, stat, 'window'), stat);
      // The last hour: its bucket's percentile (several buckets: the worst of them).
      const values = this.index.buckets(queryId(metric, stat, 'bucket'), stat).slice(span.from, span.to).filter((v): v is number => v !== null);
      return values.length === 0 ? null : Math.max(...values);
    };
    return {
      avg: samples === 0 ? null : round(weighted / samples),
      p50: round(pct('p50')),
      p95: round(pct('p95')),
      p99: round(pct('p99')),
      samples,
    };
  }

  prefill(span: Span, wholeWindow: boolean): PrefillStats {
    const attemptsEmitted = sum(this.counter(MetricNames.PrefillAttempts), span);
    const successes = sum(this.counter(MetricNames.PrefillSuccesses), span);
    const failures = sum(this.total(MetricNames.PrefillFailures), span);
    // Every success or failure was an attempt, even if the attempts series is missing.
    const attempts = Math.max(attemptsEmitted, successes + failures);
    const startRate = attempts === 0 ? null : Math.min(1, successes / attempts);
    return {
      attempts,
      successes,
      failures,
      failuresByReason: this.breakdown(MetricNames.PrefillFailures, span),
      startRate: startRate === null ? null : round(startRate, 4),
      latencyMs: this.latency(MetricNames.PrefillLatency, span, wholeWindow),
      health: healthScore(attempts, startRate),
    };
  }

  webhook(span: Span): WebhookStats {
    return {
      accepted: sum(this.counter(MetricNames.WebhookAccepted), span),
      ignored: sum(this.counter(MetricNames.WebhookIgnored), span),
      rejected: sum(this.total(MetricNames.WebhookRejected), span),
      rejectedByReason: this.breakdown(MetricNames.WebhookRejected, span),
    };
  }

  crm(span: Span, wholeWindow: boolean): CrmStats {
    return {
      received: sum(this.counter(MetricNames.CrmRecordsReceived), span),
      upserted: sum(this.total(MetricNames.CrmRecordsUpserted), span),
      upsertedByStatus: this.breakdown(MetricNames.CrmRecordsUpserted, span),
      coalesced: sum(this.counter(MetricNames.CrmRecordsCoalesced), span),
      superseded: sum(this.counter(MetricNames.JobsSuperseded), span),
      chunksReplayed: sum(this.counter(MetricNames.CrmChunksReplayed), span),
      failedPermanently: sum(this.total(MetricNames.CrmRecordsFailedPermanently), span),
      failedByCode: this.breakdown(MetricNames.CrmRecordsFailedPermanently, span),
      retried: sum(this.counter(MetricNames.CrmRecordsRetried), span),
      chunks: sum(this.counter(MetricNames.CrmChunks), span),
      chunkLatencyMs: this.latency(MetricNames.CrmChunkLatency, span, wholeWindow),
      breakerOpened: sum(this.counter(MetricNames.CrmBreakerOpened), span),
      outboxKept: sum(this.counter(MetricNames.JobsKeptInOutbox), span),
      outboxSent: sum(this.counter(MetricNames.OutboxSent), span),
    };
  }

  engagement(span: Span): EngagementStats {
    const sessions = sum(this.counter(MetricNames.GuestEngagementSessions), span);
    const conversions = sum(this.counter(MetricNames.GuestConversions), span);
    const duration = this.latency(MetricNames.GuestSessionDuration, span, false);
    return {
      sessions,
      avgDurationMinutes: duration.avg === null ? null : round(duration.avg / 60),
      conversions,
      conversionRate: sessions === 0 ? null : round(Math.min(1, conversions / sessions), 4),
    };
  }
}

function topCodes(codes: Record<string, number>, limit = 5): Array<{ code: string; count: number }> {
  return Object.entries(codes)
    .filter(([, count]) => count > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, limit)
    .map(([code, count]) => ({ code, count }));
}

function queueReport(snapshot: QueueSnapshot | undefined, crmWindow: CrmStats): QueueReport | null {
  if (!snapshot) return null;
  const fromDlq = snapshot.dlqFailureCodes && Object.keys(snapshot.dlqFailureCodes).length > 0 ? snapshot.dlqFailureCodes : undefined;
  const fromMetrics = Object.keys(crmWindow.failedByCode).length > 0 ? crmWindow.failedByCode : undefined;
  return {
    backlog: snapshot.backlog,
    inFlight: snapshot.inFlight,
    oldestAgeSeconds: snapshot.oldestAgeSeconds,
    dlqDepth: snapshot.dlqDepth,
    topFailureCodes: topCodes(fromDlq ?? fromMetrics ?? {}),
    failureCodesFrom: fromDlq ? 'dlq-messages' : fromMetrics ? 'metrics' : 'none',
  };
}

/** Builds the report document from what a data source fetched. */
export function buildReport(input: ReportInput): MetricsReport {
  const { window } = input;
  const index = new SeriesIndex(window, input.fetch.series);
  const warnings = [...input.fetch.warnings, ...(input.queue?.warnings ?? [])];
  if (!input.queue) warnings.push('The queues could not be read: backlog and DLQ figures are missing.');
  const figures = new Figures(index);
  const size = index.size;
  const whole: Span = { from: 0, to: size };
  const lastHour: Span = { from: size - lastHourBucketCount(window), to: size };

  const prefillWindow = figures.prefill(whole, true);
  const prefillLastHour = figures.prefill(lastHour, false);
  if (!index.has(queryId(MetricNames.PrefillAttempts, 'Sum', 'bucket')) && prefillWindow.attempts > 0) {
    warnings.push('The PrefillAttempts series is missing: attempts are counted as successes plus failures.');
  }
  const crmWindow = figures.crm(whole, true);
  const engagementWindow = figures.engagement(whole);
  const webhookWindow = figures.webhook(whole);

  const attempts = figures.counter(MetricNames.PrefillAttempts);
  const successes = figures.counter(MetricNames.PrefillSuccesses);
  const failures = figures.total(MetricNames.PrefillFailures);
  const attemptsPerBucket = attempts.map((a, i) => Math.max(a ?? 0, (successes[i] ?? 0) + (failures[i] ?? 0)));
  const gaugeBacklog = index.buckets(queryId(MetricNames.QueueBacklog, 'Maximum', 'bucket'), 'Maximum');
  const gaugeDlq = index.buckets(queryId(MetricNames.DlqDepth, 'Maximum', 'bucket'), 'Maximum');
  if (input.queue && size > 0) {
    // The snapshot is now: it belongs to the last bucket.
    gaugeBacklog[size - 1] = Math.max(gaugeBacklog[size - 1] ?? 0, input.queue.backlog + input.queue.inFlight);
    if (input.queue.dlqDepth !== null) gaugeDlq[size - 1] = Math.max(gaugeDlq[size - 1] ?? 0, input.queue.dlqDepth);
  }

  const noTraffic =
    prefillWindow.attempts === 0 &&
    webhookWindow.accepted + webhookWindow.ignored + webhookWindow.rejected === 0 &&
    crmWindow.received + crmWindow.upserted + crmWindow.failedPermanently + crmWindow.coalesced === 0 &&
    engagementWindow.sessions === 0;

  const report: MetricsReport = {
    schema: 'genesys-guest-sync/metrics-report',
    schemaVersion: 1,
    generatedAt: new Date(input.generatedAt).toISOString(),
    stage: input.stage,
    source: input.source,
    window: {
      start: new Date(window.start).toISOString(),
      end: new Date(window.end).toISOString(),
      bucketSeconds: window.bucketSeconds,
      hours: (window.end - window.start) / 3_600_000,
    },
    lastHour: {
      start: new Date(window.start + lastHour.from * window.bucketSeconds * 1000).toISOString(),
      end: new Date(window.end).toISOString(),
    },
    noTraffic,
    health: prefillWindow.health,
    prefill: { window: prefillWindow, lastHour: prefillLastHour },
    webhook: { window: webhookWindow, lastHour: figures.webhook(lastHour) },
    crm: { window: crmWindow, lastHour: figures.crm(lastHour, false) },
    queue: queueReport(input.queue, crmWindow),
    engagement: engagementWindow.sessions > 0 ? { window: engagementWindow, lastHour: figures.engagement(lastHour) } : null,
    coldStarts: sum(figures.counter(MetricNames.ColdStart), whole),
    series: {
      buckets: bucketStarts(window).map((t) => new Date(t).toISOString()),
      prefillAttempts: attemptsPerBucket,
      prefillSuccesses: successes.map((v) => v ?? 0),
      prefillStartRate: attemptsPerBucket.map((a, i) => (a === 0 ? null : round(Math.min(1, (successes[i] ?? 0) / a), 4))),
      prefillLatencyAvg: index.buckets(queryId(MetricNames.PrefillLatency, 'Average', 'bucket'), 'Average').map((v) => round(v)),
      prefillLatencyP95: index.buckets(queryId(MetricNames.PrefillLatency, 'p95', 'bucket'), 'p95').map((v) => round(v)),
      crmUpserted: figures.total(MetricNames.CrmRecordsUpserted).map((v) => v ?? 0),
      crmFailed: figures.total(MetricNames.CrmRecordsFailedPermanently).map((v) => v ?? 0),
      queueBacklog: gaugeBacklog,
      dlqDepth: gaugeDlq,
    },
    findings: [],
    warnings,
  };
  report.findings = findingsFor(report);
  return report;
}
