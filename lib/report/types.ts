/**
 * The shapes the metrics report is made of: what the report asks a data source for
 * (series queries over a window), what a source answers (series and a queue snapshot),
 * and the report document itself (schema versioned).
 */
import type { MetricDimension, MetricName } from '#lib/observability';

/** The statistics the report asks for; CloudWatch's names, computed the same way locally. */
export type Statistic = 'Sum' | 'SampleCount' | 'Average' | 'Maximum' | 'p50' | 'p95' | 'p99';

/** The window a report covers, cut into equal buckets (hourly by default). */
export interface ReportWindow {
  /** Epoch milliseconds, inclusive. */
  start: number;
  /** Epoch milliseconds, exclusive. */
  end: number;
  bucketSeconds: number;
}

/**
 * One series the report needs: a metric and a statistic, per bucket or over the whole
 * window, optionally broken down by the dimension it is emitted with.
 */
export interface SeriesQuery {
  /** Unique in a request; starts with a lower-case letter (CloudWatch's rule for ids). */
  id: string;
  metric: MetricName;
  stat: Statistic;
  /** `bucket`: one value per bucket; `window`: one value for the whole window. */
  scope: 'bucket' | 'window';
  /** Breaks the series down by this dimension (one labelled series per value). */
  groupBy?: MetricDimension;
}

/** One timestamped value. */
export interface SeriesPoint {
  /** Epoch milliseconds at the start of the period the value covers. */
  timestamp: number;
  value: number;
}

/** What a source answers for one query (several, labelled, when the query is grouped). */
export interface FetchedSeries {
  queryId: string;
  /** The dimension value of a grouped query's series. */
  label?: string;
  points: SeriesPoint[];
}

/** Everything a source fetched for the report's queries, and what it could not. */
export interface MetricsFetch {
  series: FetchedSeries[];
  /** Plain-words notes on partial or missing data (the report lists them). */
  warnings: string[];
}

/** The CRM sync queue and its DLQ, now. */
export interface QueueSnapshot {
  /** Messages waiting to be processed. */
  backlog: number;
  /** Messages a worker holds right now. */
  inFlight: number;
  delayed: number;
  /** Age of the oldest message in the queue, when the source can tell. */
  oldestAgeSeconds: number | null;
  dlqDepth: number | null;
  /**
   * Failure codes of the DLQ's messages (their `failureCode` attribute), when the source
   * can read them; messages without one count as `unknown`.
   */
  dlqFailureCodes?: Record<string, number>;
  warnings: string[];
}

/** Where report data comes from: CloudWatch in AWS, the local stack's EMF file locally. */
export interface ReportDataSource {
  /** Names the source in the report (`cloudwatch`, `local-emf`). */
  readonly name: string;
  fetchSeries(window: ReportWindow, queries: readonly SeriesQuery[]): Promise<MetricsFetch>;
  queueSnapshot(): Promise<QueueSnapshot | undefined>;
}

/** The prefill health score: the session start rate against the 0.95 target. */
export type HealthScore = 'healthy' | 'degraded' | 'no-traffic';

/** Latency statistics in milliseconds; null when nothing was measured. */
export interface LatencyStats {
  avg: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  samples: number;
}

/** Prefill figures for a span (the window or the last hour). */
export interface PrefillStats {
  attempts: number;
  successes: number;
  failures: number;
  failuresByReason: Record<string, number>;
  /** successes / attempts; null without attempts. */
  startRate: number | null;
  latencyMs: LatencyStats;
  health: HealthScore;
}

/** Webhook figures for a span. */
export interface WebhookStats {
  accepted: number;
  ignored: number;
  rejected: number;
  rejectedByReason: Record<string, number>;
}

/** CRM sync figures for a span. */
export interface CrmStats {
  received: number;
  upserted: number;
  upsertedByStatus: Record<string, number>;
  coalesced: number;
  /** Jobs older than the version the CRM already holds: acknowledged, never sent (never back in time). */
  superseded: number;
  /** Redelivered chunks the CRM had already applied: answered from the chunk record, not sent again. */
  chunksReplayed: number;
  failedPermanently: number;
  failedByCode: Record<string, number>;
  retried: number;
  chunks: number;
  chunkLatencyMs: LatencyStats;
  breakerOpened: number;
  /** Jobs SQS did not take in time, kept in the outbox by the intake functions. */
  outboxKept: number;
  /** Outbox jobs the sweep handed to SQS. */
  outboxSent: number;
}

/** Guest engagement figures for a span; present only when guests were measured. */
export interface EngagementStats {
  sessions: number;
  avgDurationMinutes: number | null;
  conversions: number;
  conversionRate: number | null;
}

/** A finding: something a reader should know or do, in plain words. */
export interface Finding {
  severity: 'critical' | 'warning' | 'info';
  /** Stable identifier (for alerts and tests), e.g. `prefill-degraded`, `dlq-not-empty`. */
  code: string;
  message: string;
}

/** The queue section of the report. */
export interface QueueReport {
  backlog: number;
  inFlight: number;
  oldestAgeSeconds: number | null;
  dlqDepth: number | null;
  topFailureCodes: Array<{ code: string; count: number }>;
  /** Where the failure codes come from: the DLQ's messages, or the worker's metrics. */
  failureCodesFrom: 'dlq-messages' | 'metrics' | 'none';
}

/** The report document (JSON output). */
export interface MetricsReport {
  schema: 'genesys-guest-sync/metrics-report';
  schemaVersion: 1;
  generatedAt: string;
  stage: string;
  source: string;
  window: { start: string; end: string; bucketSeconds: number; hours: number };
  lastHour: { start: string; end: string };
  /** True when nothing at all happened in the window. */
  noTraffic: boolean;
  health: HealthScore;
  prefill: { window: PrefillStats; lastHour: PrefillStats };
  webhook: { window: WebhookStats; lastHour: WebhookStats };
  crm: { window: CrmStats; lastHour: CrmStats };
  queue: QueueReport | null;
  engagement: { window: EngagementStats; lastHour: EngagementStats } | null;
  coldStarts: number;
  /** Per-bucket series for the charts; `buckets` holds each bucket's start (ISO). */
  series: {
    buckets: string[];
    prefillAttempts: number[];
    prefillSuccesses: number[];
    prefillStartRate: Array<number | null>;
    prefillLatencyAvg: Array<number | null>;
    prefillLatencyP95: Array<number | null>;
    crmUpserted: number[];
    crmFailed: number[];
    queueBacklog: Array<number | null>;
    dlqDepth: Array<number | null>;
  };
  findings: Finding[];
  /** Data-quality notes: partial data, missing series, unreadable queues. */
  warnings: string[];
}
