/**
 * `POST /sessions/{sessionId}/prefill`: validates, masks and prepares a guest's attributes
 * before the first message, keeps them as the session's prepared session, PATCHes them
 * onto the conversation when the session is already linked to a live one, then queues the
 * CRM sync job (machine JWT, scope guest-sync/write). The body is taken raw so that even an
 * unparseable request is audited; `#lib/prefill` parses it with the same JSON parser as
 * every other route.
 */
import { getIdentitySalt, sharedSecretCache } from '#lib/auth';
import { configAtColdStart } from '#lib/config';
import { deadlineFromContext, sharedGenesysClient } from '#lib/genesys';
import { ENQUEUE_ANSWER_MARGIN_MS, enqueueJobs, sharedOutbox } from '#lib/jobs';
import { dependenciesOnFirstUse, httpStack } from '#lib/lambda';
import { prefillAudit, prefillSession, type PrefillDependencies } from '#lib/prefill';
import { PreparedSessions, sharedStateTable } from '#lib/state';

const config = configAtColdStart(['genesys', 'queue', 'identity', 'state', 'prefill']);

const dependencies = dependenciesOnFirstUse((): PrefillDependencies => {
  const settings = config();
  const { queue, identity, prefill } = settings;
  return {
    sessions: new PreparedSessions(sharedStateTable(settings)),
    ttlSeconds: prefill.ttlSeconds,
    genesys: sharedGenesysClient(settings),
    identitySalt: () => getIdentitySalt(sharedSecretCache(settings), identity.saltSecretId),
    enqueue: (jobs, deadline) =>
      enqueueJobs(jobs, { queueUrl: queue.queueUrl, outbox: sharedOutbox(settings), ...(deadline ? { budgetMs: deadline.remainingMs() } : {}) }),
  };
});

export const handler = httpStack(
  async (request, context) => {
    const enqueueDeadline = { remainingMs: () => context.getRemainingTimeInMillis() - ENQUEUE_ANSWER_MARGIN_MS };
    const result = await prefillSession(request, { ...dependencies(), deadline: deadlineFromContext(context), enqueueDeadline }, request.audit);
    return { statusCode: 200, body: result };
  },
  { rawBody: true, audit: prefillAudit },
);
