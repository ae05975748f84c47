/**
 * The scheduled metrics report (hourly by default, and on demand): reads the suite's
 * metrics and queues, builds the report, logs its JSON, records what it saw of the
 * queues, and delivers it to REPORT_BUCKET and REPORT_WEBHOOK_URL when they are set.
 * An on-demand invocation may pass `{"windowHours": 6}`.
 */
import { ValidationError } from '#lib/errors';
import { sharedSqsClient } from '#lib/jobs';
import { configAtColdStart } from '#lib/config';
import { logger, metrics, scheduleStack } from '#lib/lambda';
import {
  deliverReport,
  MAX_WINDOW_HOURS,
  produceReport,
  recordQueueGauges,
  reportSourceFor,
  reportWindow,
  runSummary,
  sharedCloudWatchClient,
  sharedS3Client,
} from '#lib/metrics/report';

const config = configAtColdStart(['queue', 'report']);

/** The window an on-demand event asks for, if any. */
function windowHoursOf(event: Record<string, unknown>): number | undefined {
  const value = event['windowHours'];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_WINDOW_HOURS) {
    throw new ValidationError(`windowHours must be an integer from 1 to ${MAX_WINDOW_HOURS}`);
  }
  return value;
}

export const handler = scheduleStack(async (event) => {
  const { queue, runtime, report: settings } = config();
  const window = reportWindow({ hours: windowHoursOf(event) ?? settings.windowHours });
  const source = reportSourceFor(settings, {
    stage: runtime.stage,
    service: process.env['POWERTOOLS_SERVICE_NAME'] ?? 'genesys-guest-sync',
    queueUrl: queue.queueUrl,
    dlqUrl: queue.dlqUrl,
    sqs: sharedSqsClient(),
    sqsEndpoint: process.env['AWS_ENDPOINT_URL_SQS'],
    cloudwatch: sharedCloudWatchClient,
  });

  const output = await produceReport({ source, stage: runtime.stage, window });
  logger.info('Metrics report', { report: output.report });
  recordQueueGauges(metrics, output.report);

  const delivered = await deliverReport(output, { bucket: settings.bucket, prefix: settings.prefix, webhookUrl: settings.webhookUrl }, { s3: sharedS3Client });
  if (delivered.errors.length > 0) {
    logger.error('Metrics report delivery failed', { errors: delivered.errors, keys: delivered.keys });
    throw new Error(`Metrics report delivery failed: ${delivered.errors.join('; ')}`);
  }
  return runSummary(output.report, delivered);
});
