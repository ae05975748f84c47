/** `PATCH /guests/{guestId}`: updates under `If-Match` (428 without) and the guest's write lease; merges other writers' changes; 409 after 3 attempts. */
import { getIdentitySalt, sharedSecretCache } from '#lib/auth';
import { PreconditionRequiredError } from '#lib/errors';
import { deadlineFromContext, sharedGenesysClient } from '#lib/genesys';
import { actorOf, updateGuest, validateUpdateGuestBody, type UpdateGuestBody } from '#lib/guests';
import { ENQUEUE_ANSWER_MARGIN_MS, sharedOutbox } from '#lib/jobs';
import { configAtColdStart } from '#lib/config';
import { httpStack } from '#lib/lambda';
import { WriteLeases, sharedStateTable } from '#lib/state';
import { requireIfMatch, requireUuidParam } from '#lib/validation';

const config = configAtColdStart(['genesys', 'guests', 'identity', 'queue', 'state']);

export const handler = httpStack<UpdateGuestBody>(
  async (request, context) => {
    const settings = config();
    const { guests, identity, queue } = settings;
    const guestId = requireUuidParam(request.pathParameters, 'guestId');
    const ifMatch = request.headers['if-match']?.trim();
    if (!ifMatch) {
      throw new PreconditionRequiredError('Send If-Match with the ETag of the guest as you last read it.');
    }
    requireIfMatch(ifMatch);
    const { guest, etag, conflictsResolved } = await updateGuest(guestId, ifMatch, request.body, {
      genesys: sharedGenesysClient(settings),
      settings: guests,
      leases: new WriteLeases(sharedStateTable(settings)),
      salt: await getIdentitySalt(sharedSecretCache(settings), identity.saltSecretId),
      queueUrl: queue.queueUrl,
      deadline: deadlineFromContext(context),
      outbox: sharedOutbox(settings),
      enqueueDeadline: deadlineFromContext(context, ENQUEUE_ANSWER_MARGIN_MS),
      actor: actorOf(request.claims),
      requestId: request.requestId,
    });
    return { statusCode: 200, body: { ...guest, conflictsResolved }, headers: { ETag: etag } };
  },
  { validateBody: validateUpdateGuestBody, maxBodyBytes: 32 * 1024 },
);
