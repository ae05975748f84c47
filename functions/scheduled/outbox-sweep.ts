/**
 * The outbox sweep (every minute): CRM sync jobs that SQS did not take in time wait in the
 * state table; this hands them to SQS and removes each once SQS has it.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { sharedOutbox, sweepOutbox } from '#lib/jobs';
import { configAtColdStart } from '#lib/config';
import { scheduleStack } from '#lib/lambda';
import { logger, MetricNames, metrics } from '#lib/observability';

const config = configAtColdStart(['queue', 'state']);

export const handler = scheduleStack(async (_event, context) => {
  const settings = config();
  const report = await sweepOutbox(sharedOutbox(settings), {
    queueUrl: settings.queue.queueUrl,
    budgetMs: context.getRemainingTimeInMillis() - 2_000,
  });
  metrics.addMetric(MetricNames.OutboxSent, MetricUnit.Count, report.sent);
  metrics.addMetric(MetricNames.OutboxDeferred, MetricUnit.Count, report.deferred);
  if (report.due > 0) logger.info('Outbox sweep', { ...report });
  return report;
});
