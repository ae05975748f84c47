/** `POST /prechat/enrich`, the Data Action of the inbound message flow: CRM lookup (5 s budget, never a 5xx because of the CRM), merge, tier routing, guest participant attributes, CRM sync job. */
import { getIdentitySalt, sharedSecretCache } from '#lib/auth';
import { sharedCustomerLookup } from '#lib/crm';
import { deadlineFromContext, sharedGenesysClient } from '#lib/genesys';
import { ENQUEUE_ANSWER_MARGIN_MS, sharedOutbox } from '#lib/jobs';
import { configAtColdStart } from '#lib/config';
import { httpStack } from '#lib/lambda';
import { enrichPrechat, prechatDeadline, validatePrechatBody, type PrechatBody } from '#lib/prechat';

const config = configAtColdStart(['genesys', 'crm', 'identity', 'queue', 'state', 'routing']);

export const handler = httpStack<PrechatBody>(
  async (request, context) => {
    const deadline = prechatDeadline(deadlineFromContext(context));
    const settings = config();
    const { identity, queue, routing } = settings;
    const result = await enrichPrechat(request.body, {
      genesys: sharedGenesysClient(settings),
      lookup: sharedCustomerLookup(settings),
      salt: await getIdentitySalt(sharedSecretCache(settings), identity.saltSecretId),
      routingQueues: routing.queues,
      queueUrl: queue.queueUrl,
      deadline,
      outbox: sharedOutbox(settings),
      enqueueDeadline: deadlineFromContext(context, ENQUEUE_ANSWER_MARGIN_MS),
    });
    return { statusCode: 200, body: result };
  },
  { validateBody: validatePrechatBody, maxBodyBytes: 16 * 1024 },
);
