/**
 * The outbox sweep (every minute): CRM sync jobs that SQS did not take in time wait in the
 * state table; this hands them to SQS and removes each once SQS has it.
 */
import { configAtColdStart } from '#lib/config';
import { runOutboxSweep, sharedOutbox } from '#lib/jobs';
import { dependenciesOnFirstUse, scheduleStack } from '#lib/lambda';

const config = configAtColdStart(['queue', 'state']);

const dependencies = dependenciesOnFirstUse(() => {
  const settings = config();
  return { outbox: sharedOutbox(settings), queueUrl: settings.queue.queueUrl };
});

export const handler = scheduleStack(async (_event, context) =>
  runOutboxSweep({ ...dependencies(), budgetMs: context.getRemainingTimeInMillis() - 2_000 }),
);
