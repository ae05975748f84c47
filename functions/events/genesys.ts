/**
 * Genesys conversation events from the partner event bus (EventBridge rule, docs/api.md
 * section 3): links conversations to prepared sessions, re-asserts the prepared attributes
 * on the guest participant, and queues the CRM sync. A thrown error makes EventBridge retry
 * the event, then hand it to the rule's dead-letter queue.
 */
import { deadlineFromContext, sharedGenesysClient } from '#lib/genesys';
import { EventLedger, handleConversationEvent } from '#lib/events';
import { ENQUEUE_ANSWER_MARGIN_MS, enqueueJobs, sharedOutbox } from '#lib/jobs';
import { configAtColdStart, eventStack } from '#lib/lambda';
import { PreparedSessions, sharedStateTable } from '#lib/state';

const config = configAtColdStart(['genesys', 'queue', 'state']);

export const handler = eventStack(async (event, context) => {
  const { queue } = config();
  const table = sharedStateTable();
  return handleConversationEvent(event, {
    ledger: new EventLedger(table),
    sessions: new PreparedSessions(table),
    genesys: sharedGenesysClient(),
    enqueue: (jobs) =>
      enqueueJobs(jobs, {
        queueUrl: queue.queueUrl,
        outbox: sharedOutbox(),
        budgetMs: context.getRemainingTimeInMillis() - ENQUEUE_ANSWER_MARGIN_MS,
      }),
    deadline: deadlineFromContext(context),
  });
});
