/** `GET /health`: liveness and version, open to anyone. */
import { configAtColdStart } from '#lib/config';
import { httpStack } from '#lib/lambda';

const config = configAtColdStart([]);

export const handler = httpStack(async () => ({
  statusCode: 200,
  body: { status: 'ok', version: config().runtime.version },
}));
