/** `GET /guests/{guestId}/metrics`: engagement metrics of a guest from Genesys analytics conversation details. */
import { deadlineFromContext, sharedGenesysClient } from '#lib/genesys';
import { measureGuest } from '#lib/guests';
import { configAtColdStart } from '#lib/config';
import { httpStack } from '#lib/lambda';
import { requireUuidParam } from '#lib/validation';

const config = configAtColdStart(['genesys', 'guests']);

export const handler = httpStack(async (request, context) => {
  const settings = config();
  const { guests } = settings;
  const guestId = requireUuidParam(request.pathParameters, 'guestId');
  const body = await measureGuest(sharedGenesysClient(settings), guests, guestId, { days: guests.metricsDays, deadline: deadlineFromContext(context) });
  return { statusCode: 200, body };
});
