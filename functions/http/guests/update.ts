/** `PATCH /guests/{guestId}`: updates under `If-Match` (428 without) and the guest's write lease; merges other writers' changes; 409 after 3 attempts. */
import { getIdentitySalt, sharedSecretCache } from '#lib/auth';
import { configAtColdStart } from '#lib/config';
import { PreconditionRequiredError } from '#lib/errors';
import { deadlineFromContext, sharedGenesysClient } from '#lib/genesys';
import { guestAudit, updateGuest, validateUpdateGuestBody, type GuestAuditFacts, type GuestDependencies, type UpdateGuestBody } from '#lib/guests';
import { ENQUEUE_ANSWER_MARGIN_MS, sharedOutbox } from '#lib/jobs';
import { dependenciesOnFirstUse, httpStack } from '#lib/lambda';
import { WriteLeases, sharedStateTable } from '#lib/state';
import { requireIfMatch, requireUuidParam } from '#lib/validation';

const config = configAtColdStart(['genesys', 'guests', 'identity', 'queue', 'state']);

const dependencies = dependenciesOnFirstUse((): GuestDependencies & { leases: WriteLeases } => {
  const settings = config();
  const { guests, identity, queue } = settings;
  return {
    genesys: sharedGenesysClient(settings),
    settings: guests,
    leases: new WriteLeases(sharedStateTable(settings)),
    identitySalt: () => getIdentitySalt(sharedSecretCache(settings), identity.saltSecretId),
    queueUrl: queue.queueUrl,
    outbox: sharedOutbox(settings),
  };
});

export const handler = httpStack<UpdateGuestBody, GuestAuditFacts>(
  async (request, context) => {
    const guestId = requireUuidParam(request.pathParameters, 'guestId');
    const ifMatch = request.headers['if-match']?.trim();
    if (!ifMatch) {
      throw new PreconditionRequiredError('Send If-Match with the ETag of the guest as you last read it.');
    }
    requireIfMatch(ifMatch);
    const deadlines = { deadline: deadlineFromContext(context), enqueueDeadline: deadlineFromContext(context, ENQUEUE_ANSWER_MARGIN_MS) };
    const { guest, etag, conflictsResolved } = await updateGuest(guestId, ifMatch, request.body, { ...dependencies(), ...deadlines }, request.audit);
    return { statusCode: 200, body: { ...guest, conflictsResolved }, headers: { ETag: etag } };
  },
  { validateBody: validateUpdateGuestBody, maxBodyBytes: 32 * 1024, audit: guestAudit },
);
