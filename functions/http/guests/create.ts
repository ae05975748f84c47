/** `POST /guests`: creates a guest (a Genesys external contact, hashed identity, never two); 201 + ETag; enqueues a CRM sync job. */
import { getIdentitySalt, sharedSecretCache } from '#lib/auth';
import { configAtColdStart } from '#lib/config';
import { deadlineFromContext, sharedGenesysClient } from '#lib/genesys';
import { createGuest, guestAudit, validateCreateGuestBody, type CreateGuestBody, type GuestAuditFacts, type GuestDependencies } from '#lib/guests';
import { ENQUEUE_ANSWER_MARGIN_MS, sharedOutbox } from '#lib/jobs';
import { dependenciesOnFirstUse, httpStack } from '#lib/lambda';

const config = configAtColdStart(['genesys', 'guests', 'identity', 'queue', 'state']);

const dependencies = dependenciesOnFirstUse((): GuestDependencies => {
  const settings = config();
  const { guests, identity, queue } = settings;
  return {
    genesys: sharedGenesysClient(settings),
    settings: guests,
    identitySalt: () => getIdentitySalt(sharedSecretCache(settings), identity.saltSecretId),
    queueUrl: queue.queueUrl,
    outbox: sharedOutbox(settings),
  };
});

export const handler = httpStack<CreateGuestBody, GuestAuditFacts>(
  async (request, context) => {
    const deadlines = { deadline: deadlineFromContext(context), enqueueDeadline: deadlineFromContext(context, ENQUEUE_ANSWER_MARGIN_MS) };
    const { guest, etag } = await createGuest(request.body, { ...dependencies(), ...deadlines }, request.audit);
    return { statusCode: 201, body: guest, headers: { Location: `/guests/${guest.id}`, ETag: etag } };
  },
  { validateBody: validateCreateGuestBody, maxBodyBytes: 32 * 1024, audit: guestAudit },
);
