/**
 * The webhook function as Lambda runs it (the whole middy stack, raw body), against the
 * local Secrets Manager on 127.0.0.1, with SQS faked by aws-sdk-client-mock.
 */
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { signPayload } from '#lib/webhook';
import { startLocalSecretsManager, type LocalSecretsManager } from '#local/secrets-manager.ts';
import { captureOutput, freshHandler, type CapturedOutput } from '#test/support/lambda.ts';
import { call, type WrappedHttpHandler } from '#test/unit/lib/lambda/support.ts';
import { httpEvent } from '#test/support/factories.ts';

const SECRET_ID = 'test/webhook-signing-secret';
const SESSION_ID = '3f6c1d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f';
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/genesys-guest-sync-test-crm-sync';
const sqs = mockClient(SQSClient);
const dynamo = mockClient(DynamoDBClient);

let secrets: LocalSecretsManager;
let output: CapturedOutput;

beforeEach(async () => {
  secrets = await startLocalSecretsManager({ [SECRET_ID]: { signingSecret: 'secret-v1' } });
  sqs.reset();
  dynamo.reset();
  dynamo.on(PutItemCommand).rejects(Object.assign(new Error('unavailable'), { name: 'InternalServerError' }));
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

const freshTimestamp = (offsetMs = 0): string => new Date(Date.now() + offsetMs).toISOString();
const update = (overrides: Record<string, unknown> = {}) => ({
  eventId: 'evt-0001',
  event: 'guest.session.attributes.updated',
  sessionId: SESSION_ID,
  attributes: { tier: 'gold', email: 'jane.doe@enterprise.com', note: 'call 555-123-4567' },
  timestamp: freshTimestamp(-2_000),
  ...overrides,
});

/** A delivery as API Gateway hands it over; the signature is over `text` unless `signature` is given. */
function delivery(text: string, options: { secret?: string; signature?: string | null; base64?: boolean } = {}) {
  const signature = options.signature === undefined ? signPayload(options.secret ?? 'secret-v1', Buffer.from(text)) : options.signature;
  return httpEvent({
    method: 'POST',
    path: '/webhooks/genesys',
    body: options.base64 ? Buffer.from(text).toString('base64') : text,
    isBase64Encoded: options.base64 ?? false,
    headers: { 'X-Hub-Signature-256': signature ?? undefined, 'X-CRM-Integration': 'true' },
  });
}

const sentBodies = (): Array<Record<string, any>> =>
  sqs.commandCalls(SendMessageBatchCommand).flatMap((c) => (c.args[0].input.Entries ?? []).map((e) => JSON.parse(e.MessageBody ?? '{}')));

describe('POST /webhooks/genesys', () => {
  it('acknowledges a validly signed attribute update with 202 after one SQS send', async () => {
    // Prepare
    const handler = await coldStart();

    // Act
    const answer = await call(handler, delivery(JSON.stringify(update())));

    // Assess
    expect(answer.statusCode).toBe(202);
    expect(answer.json).toEqual({ acknowledged: true, jobId: expect.stringMatching(/^webhook-[0-9a-f]{32}$/) });
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
    const [job] = sentBodies();
    expect(job).toMatchObject({ source: 'webhook', jobId: answer.json?.['jobId'], record: { externalId: SESSION_ID, attributes: { tier: 'gold', note: 'call ***-***-****' } } });
    expect(JSON.stringify(job)).not.toMatch(/jane\.doe|555-123-4567/);
  });

  it('verifies the decoded bytes of a base64-encoded body', async () => {
    // Prepare
    const handler = await coldStart();

    // Act
    const answer = await call(handler, delivery(JSON.stringify(update()), { base64: true }));

    // Assess
    expect(answer.statusCode).toBe(202);
    expect(sentBodies()).toHaveLength(1);
  });

  it('verifies the exact bytes, whitespace and key order included', async () => {
    // Prepare
    const handler = await coldStart();
    const text = `{\n  "timestamp": "${freshTimestamp(-1_000)}",\n  "sessionId": "${SESSION_ID}",\n  "event": "guest.session.attributes.updated"\n}`;

    // Act
    const answer = await call(handler, delivery(text));

    // Assess
    expect(answer.statusCode).toBe(202);
  });

  it('accepts a delivery signed with the previous secret version after a rotation', async () => {
    // Prepare
    const client = new SecretsManagerClient({ region: 'us-east-1', endpoint: secrets.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    await client.send(new PutSecretValueCommand({ SecretId: SECRET_ID, SecretString: JSON.stringify({ signingSecret: 'secret-v2' }) }));
    client.destroy();
    const handler = await coldStart();

    // Act
    const previous = await call(handler, delivery(JSON.stringify(update()), { secret: 'secret-v1' }));
    const current = await call(handler, delivery(JSON.stringify(update({ eventId: 'evt-0002' })), { secret: 'secret-v2' }));

    // Assess
    expect([previous.statusCode, current.statusCode]).toEqual([202, 202]);
  });

  it('gives a duplicate delivery the same jobId', async () => {
    // Prepare
    const handler = await coldStart();
    const text = JSON.stringify(update());

    // Act
    const first = await call(handler, delivery(text));
    const second = await call(handler, delivery(text));

    // Assess
    expect(second.json).toEqual(first.json);
    expect(sentBodies().map((job) => job['jobId'])).toEqual([first.json?.['jobId'], first.json?.['jobId']]);
  });

  it('acknowledges another event type as ignored and sends nothing', async () => {
    // Prepare
    const handler = await coldStart();

    // Act
    const answer = await call(handler, delivery(JSON.stringify({ event: 'conversation.ended', timestamp: freshTimestamp() })));

    // Assess
    expect(answer.statusCode).toBe(202);
    expect(answer.json).toEqual({ acknowledged: true, ignored: true });
    expect(sqs.commandCalls(SendMessageBatchCommand)).toEqual([]);
  });

  describe.each([
    ['no signature', () => delivery(JSON.stringify(update()), { signature: null }), 401],
    ['a wrong signature', () => delivery(JSON.stringify(update()), { secret: 'not-the-secret' }), 401],
    ['a hex signature', () => delivery(JSON.stringify(update()), { signature: 'sha256=' + '0'.repeat(64) }), 401],
    ['a stale timestamp', () => delivery(JSON.stringify(update({ timestamp: freshTimestamp(-6 * 60_000) }))), 400],
    ['a future timestamp', () => delivery(JSON.stringify(update({ timestamp: freshTimestamp(6 * 60_000) }))), 400],
    ['malformed JSON', () => delivery('{"event": "guest.session.attributes.updated",'), 400],
    ['an unknown shape', () => delivery(JSON.stringify({ hello: 'world' })), 400],
    ['an update for a session that is not a UUID', () => delivery(JSON.stringify(update({ sessionId: '../../etc' }))), 400],
  ])('refuses %s', (_case, event, status) => {
    it(`with a ${status} problem and sends nothing`, async () => {
      // Prepare
      const handler = await coldStart();

      // Act
      const answer = await call(handler, event());

      // Assess
      expect(answer.statusCode).toBe(status);
      expect(answer.headers['content-type']).toBe('application/problem+json');
      expect(answer.json).toMatchObject({ status });
      expect(sqs.commandCalls(SendMessageBatchCommand)).toEqual([]);
    });
  });

  it('refuses an oversized body with 413 before reading any secret', async () => {
    // Prepare
    const handler = await coldStart();
    const text = JSON.stringify(update({ attributes: { note: 'x'.repeat(70_000) } }));

    // Act
    const answer = await call(handler, delivery(text));

    // Assess
    expect(answer.statusCode).toBe(413);
    expect(secrets.reads()[SECRET_ID] ?? 0).toBe(0);
  });

  it('acknowledges (202) when SQS keeps refusing but the outbox keeps the job', async () => {
    // Prepare
    const handler = await coldStart();
    sqs.on(SendMessageBatchCommand).rejects(new Error('unavailable'));
    dynamo.on(PutItemCommand).resolves({});

    // Act
    const answer = await call(handler, delivery(JSON.stringify(update())));

    // Assess
    expect(answer.statusCode).toBe(202);
    expect(dynamo.commandCalls(PutItemCommand)[0]?.args[0].input.Item?.['pk']?.S).toBe(`outbox#${String(answer.json?.['jobId'])}`);
  });

  it('answers 502 when SQS keeps refusing and the outbox cannot keep the job, so the sender redelivers', async () => {
    // Prepare
    const handler = await coldStart();
    sqs.on(SendMessageBatchCommand).rejects(new Error('unavailable'));

    // Act
    const answer = await call(handler, delivery(JSON.stringify(update())));

    // Assess
    expect(answer.statusCode).toBe(502);
    expect(output.logged('audit')).toEqual([expect.objectContaining({ type: 'webhook_rejected', reason: 'enqueue' })]);
  });
});
