/**
 * Secrets Manager that accepts connections and never answers: a read gives up within its
 * deadline with a SecretError (the handler answers 502) instead of holding the function
 * until Lambda kills it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SecretCache, SecretError } from '#lib/auth';
import { awsRequestHandler } from '#lib/net';

let stalled: Server;
let endpoint: string;
let held = 0;

beforeAll(async () => {
  stalled = createServer((req) => {
    held += 1;
    req.resume();
  });
  await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(stalled.address() as AddressInfo).port}`;
});
afterAll(async () => {
  stalled.closeAllConnections();
  await new Promise<void>((resolve) => stalled.close(() => resolve()));
});

it('a read from a stalled Secrets Manager fails with SecretError within the read deadline', async () => {
  // Prepare: a client whose own request timeout is far longer than the test allows
  const client = new SecretsManagerClient({
    endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    requestHandler: awsRequestHandler(600_000),
  });
  const cache = new SecretCache({ client });

  // Act
  const outcome = await cache.get('stage/genesys-credentials').catch((error: unknown) => error);

  // Assess
  expect(held).toBeGreaterThan(0);
  expect(outcome).toBeInstanceOf(SecretError);
  expect(outcome).toMatchObject({ reason: 'read_failed' });
  client.destroy();
}, 10_000);
