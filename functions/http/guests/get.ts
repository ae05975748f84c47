/** `GET /guests/{guestId}`: reads the guest's external contact and answers the guest representation with its ETag. */
import { configAtColdStart } from '#lib/config';
import { deadlineFromContext, sharedGenesysClient } from '#lib/genesys';
import { getGuest, type GuestReadDependencies } from '#lib/guests';
import { dependenciesOnFirstUse, httpStack } from '#lib/lambda';
import { requireUuidParam } from '#lib/validation';

const config = configAtColdStart(['genesys', 'guests']);

const dependencies = dependenciesOnFirstUse((): GuestReadDependencies => {
  const settings = config();
  return { genesys: sharedGenesysClient(settings), settings: settings.guests };
});

export const handler = httpStack(async (request, context) => {
  const guestId = requireUuidParam(request.pathParameters, 'guestId');
  const { guest, etag } = await getGuest(guestId, { ...dependencies(), deadline: deadlineFromContext(context) });
  return { statusCode: 200, body: guest, headers: { ETag: etag } };
});
