/** `GET /guests/{guestId}/metrics`: engagement metrics (duration, messages, response time, conversion) of a guest. */
import { deadlineFromContext, sharedGenesysClient } from '#lib/genesys';
import { measureGuest } from '#lib/guests';
import { configAtColdStart, httpStack } from '#lib/lambda';
import { requireUuidParam } from '#lib/validation';

const config = configAtColdStart(['genesys']);

export const handler = httpStack(async (request, context) => {
  config();
  const guestId = requireUuidParam(request.pathParameters, 'guestId');
  const body = await measureGuest(sharedGenesysClient(), guestId, { deadline: deadlineFromContext(context) });
  return { statusCode: 200, body };
});
