/**
 * `POST /sessions/{sessionId}/prefill`: validates, masks and prepares a guest's attributes
 * before the first message, keeps them as the session's prepared session, PATCHes them
 * onto the conversation when the session is already linked to a live one, then queues the
 * CRM sync job (machine JWT, scope guest-sync/write). The body is taken raw so that even an
 * unparseable request is audited; `#lib/prefill` parses it with the same JSON parser as
 * every other route.
 */
import { getIdentitySalt, sharedSecretCache } from '#lib/auth';
import { deadlineFromContext, sharedGenesysClient } from '#lib/genesys';
import { ENQUEUE_ANSWER_MARGIN_MS, enqueueJobs, sharedOutbox } from '#lib/jobs';
import { configAtColdStart } from '#lib/config';
import { httpStack } from '#lib/lambda';
import { prefillSession } from '#lib/prefill';
import { PreparedSessions, sharedStateTable } from '#lib/state';

const config = configAtColdStart(['genesys', 'queue', 'identity', 'state', 'prefill']);
let sessions: PreparedSessions | undefined;

export const handler = httpStack(
  async (request, context) => {
    const result = await prefillSession(request, () => {
      const settings = config();
      const { queue, identity, prefill } = settings;
      sessions ??= new PreparedSessions(sharedStateTable(settings));
      return {
        sessions,
        ttlSeconds: prefill.ttlSeconds,
        genesys: sharedGenesysClient(settings),
        identitySalt: () => getIdentitySalt(sharedSecretCache(settings), identity.saltSecretId),
        enqueue: (jobs) =>
          enqueueJobs(jobs, {
            queueUrl: queue.queueUrl,
            outbox: sharedOutbox(settings),
            budgetMs: context.getRemainingTimeInMillis() - ENQUEUE_ANSWER_MARGIN_MS,
          }),
        deadline: deadlineFromContext(context),
      };
    });
    return { statusCode: 200, body: result };
  },
  { rawBody: true },
);
