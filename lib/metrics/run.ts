/**
 * The pieces of a scheduled report run that are not the report itself: choosing the data
 * source from the settings, recording the queue gauges, and the invocation's summary.
 */
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { cloudWatchSource } from './cloudwatch-source.ts';
import { localEmfSource } from './local-source.ts';
import { MetricNames } from './names.ts';
import type { DeliveryResult } from './publish.ts';
import type { ReportConfig as ReportSettings } from '#lib/config';
import type { MetricsReport, ReportDataSource } from './types.ts';

/** Where the report function reads: the local stack's EMF file when it names one, else CloudWatch. */
export function reportSourceFor(
  settings: Pick<ReportSettings, 'metricsFile'>,
  options: { stage: string; service: string; queueUrl: string; dlqUrl?: string | undefined; sqs: SQSClient; sqsEndpoint?: string | undefined; cloudwatch: () => CloudWatchClient },
): ReportDataSource {
  const common = { sqs: options.sqs, stage: options.stage, queueUrl: options.queueUrl, ...(options.dlqUrl ? { dlqUrl: options.dlqUrl } : {}) };
  return settings.metricsFile
    ? localEmfSource({ ...common, metricsFile: settings.metricsFile, ...(options.sqsEndpoint ? { sqsEndpoint: options.sqsEndpoint } : {}) })
    : cloudWatchSource({ ...common, cloudwatch: options.cloudwatch(), service: options.service });
}

/** Records what this run saw of the queues: the next reports chart backlog and DLQ depth from these. */
export function recordQueueGauges(metrics: Metrics, report: MetricsReport): void {
  if (!report.queue) return;
  metrics.addMetric(MetricNames.QueueBacklog, MetricUnit.Count, report.queue.backlog + report.queue.inFlight);
  if (report.queue.dlqDepth !== null) metrics.addMetric(MetricNames.DlqDepth, MetricUnit.Count, report.queue.dlqDepth);
  if (report.queue.oldestAgeSeconds !== null) metrics.addMetric(MetricNames.QueueOldestMessageAge, MetricUnit.Seconds, report.queue.oldestAgeSeconds);
}

/** What an invocation returns (what `POST /__local/schedules/metricsReport` shows). */
export function runSummary(report: MetricsReport, delivered: DeliveryResult) {
  return {
    generatedAt: report.generatedAt,
    window: report.window,
    health: report.health,
    noTraffic: report.noTraffic,
    prefill: report.prefill.window,
    webhook: report.webhook.window,
    crm: report.crm.window,
    queue: report.queue,
    findings: report.findings,
    keys: delivered.keys,
    posted: delivered.posted,
  };
}
