/**
 * Webhook signatures through the whole function (middy stack, raw body, local Secrets
 * Manager with real rotations, SQS faked): the refusals `lib/webhook`'s own tests do not
 * already cover at the handler level. Every refusal is a problem document and sends nothing.
 */
import { createHmac } from 'node:crypto';
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { signPayload } from '#lib/webhook';
import { startLocalSecretsManager, type LocalSecretsManager } from '#local/secrets-manager.ts';
import { captureOutput, freshHandler, type CapturedOutput } from '#test/support/lambda.ts';
import { call, type WrappedHttpHandler } from '#test/unit/lib/lambda/support.ts';
import { httpEvent } from '#test/support/factories.ts';

const SECRET_ID = 'test/webhook-signing-secret';
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/genesys-guest-sync-test-crm-sync';
const CURRENT = 'secret-v1';
const sqs = mockClient(SQSClient);

let secrets: LocalSecretsManager;
let output: CapturedOutput;

beforeEach(async () => {
  secrets = await startLocalSecretsManager({ [SECRET_ID]: { signingSecret: CURRENT } });
  sqs.reset();
  sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: Array<{ Id: string }> }) => ({
    Successful: input.Entries.map((entry) => ({ Id: entry.Id, MessageId: `message-${entry.Id}`, MD5OfMessageBody: 'x' })),
    Failed: [],
  }));
  output = captureOutput();
});
afterEach(async () => {
  output.restore();
  vi.unstubAllEnvs();
  await secrets.close();
});

async function coldStart(): Promise<WrappedHttpHandler> {
  const env: Record<string, string> = {
    WEBHOOK_SECRET_ID: SECRET_ID,
    CRM_SYNC_QUEUE_URL: QUEUE_URL,
    STATE_TABLE_NAME: 'unit-state',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
  };
  return freshHandler<WrappedHttpHandler>(() => import('#functions/http/webhook.ts'), env);
}

/** Rotates the signing secret: each value becomes AWSCURRENT in turn. */
async function rotate(...values: string[]): Promise<void> {
  const client = new SecretsManagerClient({ region: 'us-east-1', endpoint: secrets.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  for (const signingSecret of values) {
    await client.send(new PutSecretValueCommand({ SecretId: SECRET_ID, SecretString: JSON.stringify({ signingSecret }) }));
  }
  client.destroy();
}

const body = (offsetMs = -1_000): string =>
  JSON.stringify({
    eventId: 'evt-sig-1',
    event: 'guest.session.attributes.updated',
    sessionId: '3f6c1d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f',
    attributes: { tier: 'gold' },
    timestamp: new Date(Date.now() + offsetMs).toISOString(),
  });
const hmac = (secret: string, text: string): Buffer => createHmac('sha256', secret).update(text).digest();
const delivery = (text: string, headers: Record<string, string>) =>
  httpEvent({ method: 'POST', path: '/webhooks/genesys', body: text, headers: { 'X-Hub-Signature-256': undefined, ...headers } });
const sent = (): number => sqs.commandCalls(SendMessageBatchCommand).length;

describe('POST /webhooks/genesys refuses a signature', () => {
  describe.each<[string, (text: string) => string]>([
    ['31 bytes long', (text) => `sha256=${hmac(CURRENT, text).subarray(0, 31).toString('base64')}`],
    ['33 bytes long', (text) => `sha256=${Buffer.concat([hmac(CURRENT, text), Buffer.from([0])]).toString('base64')}`],
    ['64 bytes long (the digest twice)', (text) => `sha256=${Buffer.concat([hmac(CURRENT, text), hmac(CURRENT, text)]).toString('base64')}`],
    ['empty after the prefix', () => 'sha256='],
    ['hex-encoded', (text) => `sha256=${hmac(CURRENT, text).toString('hex')}`],
    ['without the sha256= prefix', (text) => hmac(CURRENT, text).toString('base64')],
    ['with an upper-case prefix', (text) => `SHA256=${hmac(CURRENT, text).toString('base64')}`],
    ['base64url of another secret', (text) => `sha256=${hmac('attacker', text).toString('base64url')}`],
    ['unpadded base64 of another secret', (text) => `sha256=${hmac('attacker', text).toString('base64').replace(/=+$/, '')}`],
    ['made with an empty key', (text) => `sha256=${hmac('', text).toString('base64')}`],
    ['repeated (two headers joined with a comma, as API Gateway does)', (text) => `${signPayload('attacker', text)},${signPayload(CURRENT, text)}`],
    ['the right one followed by a forged one', (text) => `${signPayload(CURRENT, text)},${signPayload('attacker', text)}`],
  ])('%s', (_case, signature) => {
    it('with a 401 problem and sends nothing', async () => {
      // Prepare
      const handler = await coldStart();
      const text = body();

      // Act
      const answer = await call(handler, delivery(text, { 'x-hub-signature-256': signature(text) }));

      // Assess
      expect(answer.statusCode).toBe(401);
      expect(answer.headers['content-type']).toBe('application/problem+json');
      expect(answer.json).toMatchObject({ status: 401, type: expect.stringContaining('unauthorized') });
      expect(sent()).toBe(0);
    });
  });

  describe.each(['x-hub-signature-256', 'X-HUB-SIGNATURE-256', 'X-Hub-Signature-256', 'x-HUB-signature-256'])('sent as %s', (name) => {
    it('refuses a forged signature (401) and accepts the real one (202): header names are case-insensitive', async () => {
      // Prepare
      const handler = await coldStart();
      const text = body();

      // Act
      const forged = await call(handler, delivery(text, { [name]: signPayload('attacker', text) }));
      const sentAfterForged = sent();
      const genuine = await call(handler, delivery(text, { [name]: signPayload(CURRENT, text) }));

      // Assess
      expect(forged.statusCode).toBe(401);
      expect(sentAfterForged).toBe(0);
      expect(genuine.statusCode).toBe(202);
    });
  });

  it('from a secret two rotations old (401), while the previous one still verifies', async () => {
    // Prepare
    await rotate('secret-v2', 'secret-v3');
    const handler = await coldStart();
    const text = body();

    // Act
    const twoOld = await call(handler, delivery(text, { 'x-hub-signature-256': signPayload('secret-v1', text) }));
    const sentAfterTwoOld = sent();
    const previous = await call(handler, delivery(text, { 'x-hub-signature-256': signPayload('secret-v2', text) }));

    // Assess
    expect(twoOld.statusCode).toBe(401);
    expect(sentAfterTwoOld).toBe(0);
    expect(previous.statusCode).toBe(202);
  });

  it('of any kind while the configured secret is empty (500 secret-unavailable: a misconfiguration Genesys redelivers after), and sends nothing', async () => {
    // Prepare: a misconfigured secret (empty string) must never become an empty HMAC key.
    await rotate('');
    const handler = await coldStart();
    const text = body();

    // Act
    const answers = await Promise.all(
      [signPayload('', text), signPayload(CURRENT, text), undefined].map((signature) =>
        call(handler, delivery(text, signature === undefined ? {} : { 'x-hub-signature-256': signature })),
      ),
    );

    // Assess
    for (const answer of answers) {
      expect(answer.statusCode).toBe(500);
      expect(answer.headers['content-type']).toBe('application/problem+json');
      expect(answer.json).toMatchObject({ status: 500, type: expect.stringContaining('secret-unavailable') });
    }
    expect(sent()).toBe(0);
  });
});

describe('POST /webhooks/genesys refuses a correctly signed replay outside the 5-minute window', () => {
  describe.each([
    ['6 minutes in the past', -6 * 60_000],
    ['a day in the past', -24 * 3_600_000],
    ['6 minutes in the future', 6 * 60_000],
    ['a year in the future', 365 * 24 * 3_600_000],
  ])('%s', (_case, offsetMs) => {
    it('with a 400 stale-event problem and sends nothing', async () => {
      // Prepare
      const handler = await coldStart();
      const text = body(offsetMs);

      // Act
      const answer = await call(handler, delivery(text, { 'x-hub-signature-256': signPayload(CURRENT, text) }));

      // Assess
      expect(answer.statusCode).toBe(400);
      expect(answer.json).toMatchObject({ status: 400, type: expect.stringContaining('stale-event') });
      expect(sent()).toBe(0);
    });
  });
});
