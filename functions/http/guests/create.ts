/** `POST /guests`: creates a guest (a Genesys external contact, hashed identity, never two); 201 + ETag; enqueues a CRM sync job. */
import { getIdentitySalt, sharedSecretCache } from '#lib/auth';
import { deadlineFromContext, sharedGenesysClient } from '#lib/genesys';
import { actorOf, createGuest, validateCreateGuestBody, type CreateGuestBody } from '#lib/guests';
import { ENQUEUE_ANSWER_MARGIN_MS, sharedOutbox } from '#lib/jobs';
import { configAtColdStart } from '#lib/config';
import { httpStack } from '#lib/lambda';

const config = configAtColdStart(['genesys', 'guests', 'identity', 'queue', 'state']);

export const handler = httpStack<CreateGuestBody>(
  async (request, context) => {
    const settings = config();
    const { guests, identity, queue } = settings;
    const { guest, etag } = await createGuest(request.body, {
      genesys: sharedGenesysClient(settings),
      settings: guests,
      salt: await getIdentitySalt(sharedSecretCache(settings), identity.saltSecretId),
      queueUrl: queue.queueUrl,
      deadline: deadlineFromContext(context),
      outbox: sharedOutbox(settings),
      enqueueDeadline: deadlineFromContext(context, ENQUEUE_ANSWER_MARGIN_MS),
      actor: actorOf(request.claims),
      requestId: request.requestId,
    });
    return { statusCode: 201, body: guest, headers: { Location: `/guests/${guest.id}`, ETag: etag } };
  },
  { validateBody: validateCreateGuestBody, maxBodyBytes: 32 * 1024 },
);
