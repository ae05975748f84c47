/**
 * The scheduled metrics report (hourly by default, and on demand): reads the suite's
 * metrics and queues, builds the report, logs its JSON, records what it saw of the
 * queues, and delivers it to REPORT_BUCKET and REPORT_WEBHOOK_URL when they are set.
 * An on-demand invocation may pass `{"windowHours": 6}`.
 */
import { sharedSqsClient } from '#lib/jobs';
import { configAtColdStart } from '#lib/config';
import { scheduleStack } from '#lib/lambda';
import { runScheduledReport, sharedCloudWatchClient, sharedS3Client } from '#lib/report';

const config = configAtColdStart(['queue', 'report']);

export const handler = scheduleStack(async (event) => {
  const { queue, runtime, report } = config();
  return runScheduledReport(event, {
    settings: report,
    stage: runtime.stage,
    queueUrl: queue.queueUrl,
    dlqUrl: queue.dlqUrl,
    sqs: sharedSqsClient(),
    sqsEndpoint: process.env['AWS_ENDPOINT_URL_SQS'],
    cloudwatch: sharedCloudWatchClient,
    s3: sharedS3Client,
  });
});
