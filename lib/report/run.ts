/**
 * One scheduled report run, what the `metricsReport` function does: choose the data source
 * from the settings, produce the report, log it, record what it saw of the queues, deliver
 * it, and answer a summary. An on-demand invocation may pass `{"windowHours": 6}`.
 */
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { MAX_REPORT_WINDOW_HOURS, type ReportConfig as ReportSettings } from '#lib/config';
import { ValidationError } from '#lib/errors';
import { logger, MetricNames, metrics, serviceName } from '#lib/observability';
import { produceReport } from './produce.ts';
import { deliverReport, type DeliveryResult } from './publish.ts';
import { cloudWatchSource } from './sources/cloudwatch.ts';
import { localEmfSource } from './sources/local.ts';
import type { MetricsReport, ReportDataSource } from './types.ts';
import { reportWindow } from './window.ts';

/** What a scheduled run needs, built once by the function from its configuration and shared clients. */
export interface ScheduledReportDependencies {
  settings: ReportSettings;
  stage: string;
  queueUrl: string;
  dlqUrl?: string | undefined;
  sqs: SQSClient;
  /** The embedded SQS's endpoint (local stack only), for its inspection route. */
  sqsEndpoint?: string | undefined;
  cloudwatch: () => CloudWatchClient;
  s3: () => S3Client;
}

/** The window an on-demand event asks for, if any. */
function windowHoursOf(event: Record<string, unknown>): number | undefined {
  const value = event['windowHours'];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_REPORT_WINDOW_HOURS) {
    throw new ValidationError(`windowHours must be an integer from 1 to ${MAX_REPORT_WINDOW_HOURS}`);
  }
  return value;
}

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

/**
 * Reads the suite's metrics and queues over the window the event asks for (else the
 * settings'), builds the report, logs its JSON, records the queue gauges, and delivers it
 * to the bucket and webhook the settings name; a failed delivery fails the invocation.
 */
export async function runScheduledReport(event: Record<string, unknown>, deps: ScheduledReportDependencies): Promise<ReturnType<typeof runSummary>> {
  const { settings, stage } = deps;
  const window = reportWindow({ hours: windowHoursOf(event) ?? settings.windowHours });
  const source = reportSourceFor(settings, {
    stage,
    service: serviceName,
    queueUrl: deps.queueUrl,
    dlqUrl: deps.dlqUrl,
    sqs: deps.sqs,
    sqsEndpoint: deps.sqsEndpoint,
    cloudwatch: deps.cloudwatch,
  });

  const output = await produceReport({ source, stage, window });
  logger.info('Metrics report', { report: output.report });
  recordQueueGauges(metrics, output.report);

  const delivered = await deliverReport(output, { bucket: settings.bucket, prefix: settings.prefix, webhookUrl: settings.webhookUrl }, { s3: deps.s3 });
  if (delivered.errors.length > 0) {
    logger.error('Metrics report delivery failed', { errors: delivered.errors, keys: delivered.keys });
    throw new Error(`Metrics report delivery failed: ${delivered.errors.join('; ')}`);
  }
  return runSummary(output.report, delivered);
}
