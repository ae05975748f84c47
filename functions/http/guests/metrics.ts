/** `GET /guests/{guestId}/metrics`: engagement metrics of a guest from Genesys analytics conversation details. */
import { configAtColdStart } from '#lib/config';
import { deadlineFromContext, sharedGenesysClient } from '#lib/genesys';
import { getGuestMetrics, type GuestReadDependencies } from '#lib/guests';
import { dependenciesOnFirstUse, httpStack } from '#lib/lambda';
import { requireUuidParam } from '#lib/validation';

const config = configAtColdStart(['genesys', 'guests']);

const dependencies = dependenciesOnFirstUse((): GuestReadDependencies & { days: number } => {
  const settings = config();
  const { guests } = settings;
  return { genesys: sharedGenesysClient(settings), settings: guests, days: guests.metricsDays };
});

export const handler = httpStack(async (request, context) => {
  const guestId = requireUuidParam(request.pathParameters, 'guestId');
  const body = await getGuestMetrics(guestId, { ...dependencies(), deadline: deadlineFromContext(context) });
  return { statusCode: 200, body };
});
