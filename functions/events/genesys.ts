/**
 * Genesys conversation events from the partner event bus (EventBridge rule, docs/api.md
 * section 3): links conversations to prepared sessions, re-asserts the prepared attributes
 * on the guest participant, and queues the CRM sync. A thrown error makes EventBridge retry
 * the event, then hand it to the rule's dead-letter queue.
 */
import { deadlineFromContext, sharedGenesysClient } from '#lib/genesys';
import { EventLedger, handleConversationEvent } from '#lib/events';
import { ENQUEUE_ANSWER_MARGIN_MS, enqueueJobs, sharedOutbox } from '#lib/jobs';
import { configAtColdStart } from '#lib/config';
import { eventStack } from '#lib/lambda';
import { PreparedSessions, sharedStateTable } from '#lib/state';

const config = configAtColdStart(['genesys', 'queue', 'state']);

export const handler = eventStack(async (event, context) => {
  const settings = config();
  const table = sharedStateTable(settings);
  return handleConversationEvent(event, {
    ledger: new EventLedger(table),
    sessions: new PreparedSessions(table),
    genesys: sharedGenesysClient(settings),
    enqueue: (jobs) =>
      enqueueJobs(jobs, {
        queueUrl: settings.queue.queueUrl,
        outbox: sharedOutbox(settings),
        budgetMs: context.getRemainingTimeInMillis() - ENQUEUE_ANSWER_MARGIN_MS,
      }),
    deadline: deadlineFromContext(context),
  });
});
