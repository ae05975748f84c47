/** `POST /prechat/enrich`, the Data Action of the inbound message flow: CRM lookup (5 s budget, never a 5xx because of the CRM), merge, tier routing, guest participant attributes, CRM sync job. */
import { getIdentitySalt, sharedSecretCache } from '#lib/auth';
import { configAtColdStart } from '#lib/config';
import { sharedCustomerLookup } from '#lib/crm';
import { deadlineFromContext, sharedGenesysClient } from '#lib/genesys';
import { ENQUEUE_ANSWER_MARGIN_MS, sharedOutbox } from '#lib/jobs';
import { dependenciesOnFirstUse, httpStack } from '#lib/lambda';
import { enrichPrechat, prechatDeadline, validatePrechatBody, type PrechatBody, type PrechatDependencies } from '#lib/prechat';

const config = configAtColdStart(['genesys', 'crm', 'identity', 'queue', 'state', 'routing']);

const dependencies = dependenciesOnFirstUse((): PrechatDependencies => {
  const settings = config();
  const { identity, queue, routing } = settings;
  return {
    genesys: sharedGenesysClient(settings),
    lookup: sharedCustomerLookup(settings),
    identitySalt: () => getIdentitySalt(sharedSecretCache(settings), identity.saltSecretId),
    routingQueues: routing.queues,
    queueUrl: queue.queueUrl,
    outbox: sharedOutbox(settings),
  };
});

export const handler = httpStack<PrechatBody>(
  async (request, context) => {
    const deadlines = { deadline: prechatDeadline(deadlineFromContext(context)), enqueueDeadline: deadlineFromContext(context, ENQUEUE_ANSWER_MARGIN_MS) };
    const result = await enrichPrechat(request.body, { ...dependencies(), ...deadlines });
    return { statusCode: 200, body: result };
  },
  { validateBody: validatePrechatBody, maxBodyBytes: 16 * 1024 },
);
