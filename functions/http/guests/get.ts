/** `GET /guests/{guestId}`: reads the guest's external contact and answers the guest representation with its ETag. */
import { deadlineFromContext, sharedGenesysClient } from '#lib/genesys';
import { readGuest } from '#lib/guests';
import { configAtColdStart } from '#lib/config';
import { httpStack } from '#lib/lambda';
import { requireUuidParam } from '#lib/validation';

const config = configAtColdStart(['genesys', 'guests']);

export const handler = httpStack(async (request, context) => {
  const settings = config();
  const { guests } = settings;
  const guestId = requireUuidParam(request.pathParameters, 'guestId');
  const { guest, etag } = await readGuest(sharedGenesysClient(settings), guests, guestId, deadlineFromContext(context));
  return { statusCode: 200, body: guest, headers: { ETag: etag } };
});
