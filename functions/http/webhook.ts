/**
 * `POST /webhooks/genesys`: verifies a Genesys delivery's signature over the raw bytes,
 * checks its shape and age, and acknowledges it with 202 after one SQS send. No
 * authorizer: the signature authenticates the caller.
 */
import { ENQUEUE_ANSWER_MARGIN_MS, enqueueJobs, sharedOutbox } from '#lib/jobs';
import { configAtColdStart } from '#lib/config';
import { httpStack } from '#lib/lambda';
import { acknowledgeWebhook, sharedSigningSecrets } from '#lib/webhook';

const config = configAtColdStart(['webhook', 'queue', 'state']);

export const handler = httpStack(
  async (request, context) => {
    const acknowledgement = await acknowledgeWebhook(request, () => {
      const settings = config();
      return {
        secrets: sharedSigningSecrets(settings),
        enqueue: (jobs) =>
          enqueueJobs(jobs, {
            queueUrl: settings.queue.queueUrl,
            outbox: sharedOutbox(settings),
            budgetMs: context.getRemainingTimeInMillis() - ENQUEUE_ANSWER_MARGIN_MS,
          }),
      };
    });
    return { statusCode: 202, body: acknowledgement };
  },
  // Raw bytes only: the signature is checked before anything parses the body.
  { rawBody: true, maxBodyBytes: 64 * 1024 },
);
