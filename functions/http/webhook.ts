/**
 * `POST /webhooks/genesys`: verifies a Genesys delivery's signature over the raw bytes,
 * checks its shape and age, and acknowledges it with 202 after one SQS send. No
 * authorizer: the signature authenticates the caller.
 */
import { configAtColdStart } from '#lib/config';
import { ENQUEUE_ANSWER_MARGIN_MS, enqueueJobs, sharedOutbox } from '#lib/jobs';
import { dependenciesOnFirstUse, httpStack } from '#lib/lambda';
import { acknowledgeWebhook, sharedSigningSecrets, webhookAudit, type WebhookDependencies } from '#lib/webhook';

const config = configAtColdStart(['webhook', 'queue', 'state']);

const dependencies = dependenciesOnFirstUse((): WebhookDependencies => {
  const settings = config();
  return {
    secrets: sharedSigningSecrets(settings),
    enqueue: (jobs, deadline) =>
      enqueueJobs(jobs, { queueUrl: settings.queue.queueUrl, outbox: sharedOutbox(settings), ...(deadline ? { budgetMs: deadline.remainingMs() } : {}) }),
  };
});

export const handler = httpStack(
  async (request, context) => {
    const enqueueDeadline = { remainingMs: () => context.getRemainingTimeInMillis() - ENQUEUE_ANSWER_MARGIN_MS };
    const deps = { ...dependencies(), enqueueDeadline };
    const acknowledgement = await acknowledgeWebhook(request, deps, request.audit);
    return { statusCode: 202, body: acknowledgement };
  },
  // Raw bytes only: the signature is checked before anything parses the body.
  { rawBody: true, maxBodyBytes: 64 * 1024, audit: webhookAudit },
);
