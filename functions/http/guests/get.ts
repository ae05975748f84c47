/** `GET /guests/{guestId}`: reads a guest through Genesys and returns it with its ETag. */
import { deadlineFromContext, sharedGenesysClient } from '#lib/genesys';
import { configAtColdStart, httpStack } from '#lib/lambda';
import { requireUuidParam } from '#lib/validation';

const config = configAtColdStart(['genesys']);

export const handler = httpStack(async (request, context) => {
  config();
  const guestId = requireUuidParam(request.pathParameters, 'guestId');
  const { body, etag } = await sharedGenesysClient().getGuest(guestId, { deadline: deadlineFromContext(context) });
  return { statusCode: 200, body, ...(etag ? { headers: { ETag: etag } } : {}) };
});
