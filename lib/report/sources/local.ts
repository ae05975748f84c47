/**
 * The local data source: the EMF lines the local stack's functions printed (kept in a
 * file by local/stack.ts) and the embedded SQS. Counts come from `GetQueueAttributes`
 * like in AWS; the oldest message's age and the DLQ's failure codes come from the
 * embedded SQS's non-destructive inspection endpoint (receiving messages would bump
 * their receive count and could push them to the DLQ).
 */
import { readFile } from 'node:fs/promises';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { MetricName } from '#lib/observability';
import { BASE_DIMENSIONS, EXTRA_DIMENSIONS, METRICS_NAMESPACE } from '../catalog.ts';
import { parseEmfLine, type EmfSample } from './emf.ts';
import { queueNameOf, readQueueCounts } from './queues.ts';
import { statistic } from '../stats.ts';
import type { FetchedSeries, MetricsFetch, QueueSnapshot, ReportDataSource, ReportWindow, SeriesQuery } from '../types.ts';
import { bucketCount, bucketIndex } from '../window.ts';

/** Where the local source reads from. */
export interface LocalSourceOptions {
  /** The EMF file the local stack writes (`StackEndpoints.metricsFile`). */
  metricsFile: string;
  stage: string;
  namespace?: string;
  sqs: SQSClient;
  queueUrl: string;
  dlqUrl?: string;
  /** The embedded SQS's endpoint, for its inspection route; without it, no age and no codes. */
  sqsEndpoint?: string;
  now?: () => number;
}

const base = new Set<string>(BASE_DIMENSIONS);

/** The dimensions of a sample beyond the shared ones and the metric's usual extras. */
function breakdownKeys(sample: EmfSample): string[] {
  const extra = new Set(EXTRA_DIMENSIONS[sample.metric as MetricName] ?? []);
  return Object.keys(sample.dimensions).filter((key) => !base.has(key) && !extra.has(key));
}

/** The samples' values, bucket by bucket. */
function perBucket(samples: readonly EmfSample[], window: ReportWindow, size: number): number[][] {
  const buckets: number[][] = Array.from({ length: size }, () => []);
  for (const sample of samples) {
    const bucket = buckets[bucketIndex(window, sample.timestamp)];
    if (bucket) for (const value of sample.values) bucket.push(value);
  }
  return buckets;
}

/**
 * Answers the report's queries from EMF samples, the way CloudWatch would: only the
 * stage's samples in the window, a plain query reads samples without a breakdown
 * dimension, a grouped query one labelled series per dimension value.
 */
export function seriesFromSamples(
  samples: readonly EmfSample[],
  window: ReportWindow,
  queries: readonly SeriesQuery[],
  options: { stage: string; namespace?: string },
): FetchedSeries[] {
  const namespace = options.namespace ?? METRICS_NAMESPACE;
  const byMetric = new Map<string, EmfSample[]>();
  for (const sample of samples) {
    if (sample.namespace !== namespace || sample.dimensions['stage'] !== options.stage) continue;
    if (bucketIndex(window, sample.timestamp) < 0) continue;
    const list = byMetric.get(sample.metric);
    if (list) list.push(sample);
    else byMetric.set(sample.metric, [sample]);
  }
  const size = bucketCount(window);
  const series: FetchedSeries[] = [];
  for (const query of queries) {
    const groups = new Map<string | undefined, EmfSample[]>();
    for (const sample of byMetric.get(query.metric) ?? []) {
      const keys = breakdownKeys(sample);
      const matches = query.groupBy ? keys.length === 1 && keys[0] === query.groupBy : keys.length === 0;
      if (!matches) continue;
      const label = query.groupBy ? sample.dimensions[query.groupBy] : undefined;
      const group = groups.get(label);
      if (group) group.push(sample);
      else groups.set(label, [sample]);
    }
    for (const [label, group] of groups) {
      const points =
        query.scope === 'window'
          ? [{ timestamp: window.start, value: statistic(group.flatMap((s) => s.values), query.stat) }]
          : perBucket(group, window, size).map((values, i) => ({
              timestamp: window.start + i * window.bucketSeconds * 1000,
              value: statistic(values, query.stat),
            }));
      series.push({
        queryId: query.id,
        ...(label === undefined ? {} : { label }),
        points: points.filter((p): p is { timestamp: number; value: number } => p.value !== undefined),
      });
    }
  }
  return series;
}

/** Reads every EMF sample of a file; a missing file means nothing was recorded yet. */
export async function readEmfFile(path: string): Promise<EmfSample[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return text.split('\n').flatMap(parseEmfLine);
}

interface InspectedMessage {
  sentTimestamp?: number;
  messageAttributes?: Record<string, { StringValue?: string }>;
}
interface InspectedQueue {
  messages?: { ready?: InspectedMessage[]; delayed?: InspectedMessage[]; inflight?: Array<{ message?: InspectedMessage }> };
}

/** Every message of a queue, through the embedded SQS's inspection route (fauxqs). */
async function inspectMessages(endpoint: string, queueUrl: string): Promise<InspectedMessage[]> {
  const response = await fetch(`${endpoint.replace(/\/+$/, '')}/_fauxqs/queues/${encodeURIComponent(queueNameOf(queueUrl))}`, {
    signal: AbortSignal.timeout(5_000),
  });
  if (!response.ok) throw new Error(`inspection answered ${response.status}`);
  const body = (await response.json()) as InspectedQueue;
  return [...(body.messages?.ready ?? []), ...(body.messages?.delayed ?? []), ...(body.messages?.inflight ?? []).flatMap((e) => (e.message ? [e.message] : []))];
}

/** The local source (see the module comment). */
export function localEmfSource(options: LocalSourceOptions): ReportDataSource {
  const now = options.now ?? Date.now;
  return {
    name: 'local-emf',
    async fetchSeries(window: ReportWindow, queries: readonly SeriesQuery[]): Promise<MetricsFetch> {
      const samples = await readEmfFile(options.metricsFile);
      return { series: seriesFromSamples(samples, window, queries, options), warnings: [] };
    },
    async queueSnapshot(): Promise<QueueSnapshot | undefined> {
      const snapshot = await readQueueCounts(options.sqs, options.queueUrl, options.dlqUrl);
      if (!snapshot) return undefined;
      if (!options.sqsEndpoint) {
        snapshot.warnings.push('The local SQS cannot be inspected: oldest message age and DLQ failure codes are unknown.');
        return snapshot;
      }
      try {
        const messages = await inspectMessages(options.sqsEndpoint, options.queueUrl);
        const oldest = Math.min(...messages.map((m) => m.sentTimestamp ?? Infinity));
        snapshot.oldestAgeSeconds = Number.isFinite(oldest) ? Math.max(0, Math.round((now() - oldest) / 1000)) : null;
        if (options.dlqUrl) {
          const codes: Record<string, number> = {};
          for (const message of await inspectMessages(options.sqsEndpoint, options.dlqUrl)) {
            const code = message.messageAttributes?.['failureCode']?.StringValue ?? 'unknown';
            codes[code] = (codes[code] ?? 0) + 1;
          }
          snapshot.dlqFailureCodes = codes;
        }
      } catch (error) {
        snapshot.warnings.push(
          `The local SQS could not be inspected (${error instanceof Error ? error.message : String(error)}): oldest message age and DLQ failure codes are unknown.`,
        );
      }
      return snapshot;
    },
  };
}
