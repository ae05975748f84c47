/**
 * Secrets Manager that accepts connections and never answers: a read gives up within its
 * deadline with a SecretError (the handler answers 503 secret-unavailable) instead of holding the function
 * until Lambda kills it.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SecretCache, SecretError } from '#lib/auth';
import { awsRequestHandler } from '#lib/net';
import { startStalledServer, type ScriptedServer } from '#test/support/scripted-server.ts';

let stalled: ScriptedServer;

beforeAll(async () => {
  stalled = await startStalledServer();
});
afterAll(() => stalled.close());

it('a read from a stalled Secrets Manager fails with SecretError within the read deadline', async () => {
  // Prepare: a client whose own request timeout is far longer than the test allows
  const client = new SecretsManagerClient({
    endpoint: stalled.url,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    requestHandler: awsRequestHandler(600_000),
  });
  const cache = new SecretCache({ client });

  // Act
  const outcome = await cache.get('stage/genesys-credentials').catch((error: unknown) => error);

  // Assess
  expect(stalled.requests.length).toBeGreaterThan(0);
  expect(outcome).toBeInstanceOf(SecretError);
  expect(outcome).toMatchObject({ reason: 'read_failed' });
  client.destroy();
}, 10_000);
