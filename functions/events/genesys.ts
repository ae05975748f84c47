/**
 * Genesys conversation events from the partner event bus (EventBridge rule, docs/api.md
 * section 3): links conversations to prepared sessions, re-asserts the prepared attributes
 * on the guest participant, and queues the CRM sync. A thrown error makes EventBridge retry
 * the event, then hand it to the rule's dead-letter queue.
 */
import { configAtColdStart } from '#lib/config';
import { EventLedger, handleConversationEvent, type EventDependencies } from '#lib/events';
import { deadlineFromContext, sharedGenesysClient } from '#lib/genesys';
import { ENQUEUE_ANSWER_MARGIN_MS, enqueueJobs, sharedOutbox } from '#lib/jobs';
import { dependenciesOnFirstUse, eventStack } from '#lib/lambda';
import { PreparedSessions, sharedStateTable } from '#lib/state';

const config = configAtColdStart(['genesys', 'queue', 'state']);

const dependencies = dependenciesOnFirstUse((): EventDependencies => {
  const settings = config();
  const table = sharedStateTable(settings);
  return {
    ledger: new EventLedger(table),
    sessions: new PreparedSessions(table),
    genesys: sharedGenesysClient(settings),
    enqueue: (jobs, deadline) =>
      enqueueJobs(jobs, { queueUrl: settings.queue.queueUrl, outbox: sharedOutbox(settings), ...(deadline ? { budgetMs: deadline.remainingMs() } : {}) }),
  };
});

export const handler = eventStack(async (event, context) => {
  const enqueueDeadline = { remainingMs: () => context.getRemainingTimeInMillis() - ENQUEUE_ANSWER_MARGIN_MS };
  return handleConversationEvent(event, { ...dependencies(), deadline: deadlineFromContext(context), enqueueDeadline });
});
