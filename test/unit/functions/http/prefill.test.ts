/**
 * The prefill function as Lambda runs it (the whole middy stack), against the sandbox
 * Genesys and the local Secrets Manager on 127.0.0.1, with SQS faked by
 * aws-sdk-client-mock so the queued message can be read and sends can fail.
 */
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startGenesysSandbox, type GenesysSandbox } from '../../../../local/sandbox/index.ts';
import { startLocalSecretsManager, type LocalSecretsManager } from '../../../../local/secrets-manager.ts';
import { captureOutput, httpEvent, type CapturedOutput } from '../../../support/lambda.ts';
import { call, type WrappedHttpHandler } from '../../lib/lambda/support.ts';

const SESSION_ID = '3f6c1d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f';
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/genesys-guest-sync-test-crm-sync';
const CLIENT = { clientId: 'unit-client', clientSecret: 'unit-client-secret' };
const sqs = mockClient(SQSClient);
const dynamo = mockClient(DynamoDBClient);

let genesys: GenesysSandbox;
let secrets: LocalSecretsManager;
let output: CapturedOutput;

beforeAll(async () => {
  genesys = await startGenesysSandbox({ clients: [CLIENT] });
  secrets = await startLocalSecretsManager({
    'test/genesys-credentials': CLIENT,
    'test/identity-salt': { salt: 'unit-test-salt' },
  });
});
afterAll(async () => {
  await genesys.close();
  await secrets.close();
});
beforeEach(() => {
  genesys.reset();
  sqs.reset();
  dynamo.reset();
  dynamo.on(PutItemCommand).rejects(Object.assign(new Error('unavailable'), { name: 'InternalServerError' }));
  sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: Array<{ Id: string }> }) => ({
    Successful: input.Entries.map((entry) => ({ Id: entry.Id, MessageId: `message-${entry.Id}`, MD5OfMessageBody: 'x' })),
    Failed: [],
  }));
  output = captureOutput();
});
afterEach(() => {
  output.restore();
  vi.unstubAllEnvs();
});

/** Loads the function fresh (a cold start) with the test environment. */
async function coldStart(overrides: Record<string, string> = {}): Promise<WrappedHttpHandler> {
  const env: Record<string, string> = {
    GENESYS_API_BASE_URL: genesys.url,
    GENESYS_LOGIN_BASE_URL: genesys.url,
    GENESYS_CREDENTIALS_SECRET_ID: 'test/genesys-credentials',
    IDENTITY_SALT_SECRET_ID: 'test/identity-salt',
    CRM_SYNC_QUEUE_URL: QUEUE_URL,
    STATE_TABLE_NAME: 'unit-state',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    ...overrides,
  };
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  vi.resetModules();
  return (await import('../../../../functions/http/prefill.ts')).handler as unknown as WrappedHttpHandler;
}

const prefill = (body: unknown, sessionId = SESSION_ID, headers: Record<string, string> = {}) =>
  httpEvent({
    method: 'POST',
    path: `/sessions/${sessionId}/prefill`,
    pathParameters: { sessionId },
    body,
    headers: { 'x-request-id': 'prefill-test-1', ...headers },
    claims: { sub: 'crm-connector', scope: 'guest-sync/write' },
  });

const genesysCalls = (operation: string): number => genesys.state().requests.filter((r) => r.operation === operation).length;
const sentBodies = (): string[] =>
  sqs.commandCalls(SendMessageBatchCommand).flatMap((c) => (c.args[0].input.Entries ?? []).map((e) => e.MessageBody ?? ''));

/** Attributes whose processed `{attributes}` is exactly `bytes` bytes. */
const attributesOfBytes = (bytes: number) => {
  const overhead = Buffer.byteLength(JSON.stringify({ attributes: { note: '' } }));
  return { note: 'x'.repeat(bytes - overhead) };
};

describe('POST /sessions/{sessionId}/prefill', () => {
  it('prefills the seed example and queues one job without plaintext identifiers', async () => {
    // Prepare
    const handler = await coldStart();
    const body = {
      attributes: { first_name: 'Jane', account_tier: 'enterprise', email: 'jane.doe@enterprise.com', phone: '555-123-4567', zip: '02134' },
      consent: { consent_terms_accepted: 'true', marketing_opt_in: 'false' },
    };

    // Act
    const answer = await call(handler, prefill(body));

    // Assess
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['x-request-id']).toBe('prefill-test-1');
    expect(answer.json).toEqual({
      sessionId: SESSION_ID,
      attributeCount: 7,
      byteSize: expect.any(Number),
      maskedKeys: ['email', 'phone'],
      syncJobId: expect.stringMatching(/^prefill-[0-9a-f]{32}$/),
      sync: 'queued',
    });
    expect(genesys.state().sessions[SESSION_ID]).toEqual({
      first_name: 'Jane',
      account_tier: 'enterprise',
      email: '*'.repeat(23),
      phone: '***-***-****',
      zip: '02134',
      consent_terms_accepted: true,
      marketing_opt_in: false,
    });
    expect(genesys.state().piiFindings).toEqual([]);
    const [message, ...others] = sentBodies();
    expect(others).toEqual([]);
    expect(message).not.toMatch(/jane\.doe|enterprise\.com|555-123-4567/);
    expect(JSON.parse(message ?? '{}')).toMatchObject({
      kind: 'crm.upsert',
      source: 'prefill',
      jobId: answer.json?.['syncJobId'],
      record: {
        externalId: SESSION_ID,
        emailHash: expect.stringMatching(/^[0-9a-f]{64}$/),
        phoneHash: expect.stringMatching(/^[0-9a-f]{64}$/),
        consentFlags: { consent_terms_accepted: true, marketing_opt_in: false },
      },
    });
  });

  describe('the size boundary, to the byte', () => {
    it('accepts exactly 10,240 bytes', async () => {
      // Prepare
      const handler = await coldStart();

      // Act
      const answer = await call(handler, prefill({ attributes: attributesOfBytes(10_240) }));

      // Assess
      expect(answer.statusCode).toBe(200);
      expect(answer.json?.['byteSize']).toBe(10_240);
      expect(genesysCalls('putSessionAttributes')).toBe(1);
    });

    it('refuses 10,241 bytes with 413 naming the size, and calls nothing', async () => {
      // Prepare
      const handler = await coldStart();

      // Act
      const answer = await call(handler, prefill({ attributes: attributesOfBytes(10_241) }));

      // Assess
      expect(answer.statusCode).toBe(413);
      expect(answer.headers['content-type']).toBe('application/problem+json');
      expect(answer.json).toMatchObject({ status: 413, detail: expect.stringContaining('10241 bytes'), byteSize: 10_241 });
      expect(genesys.state().requests).toEqual([]);
      expect(sqs.commandCalls(SendMessageBatchCommand)).toEqual([]);
    });
  });

  describe.each([
    ['a session id that is not a UUID', () => prefill({ attributes: { a: 'b' } }, 'session-1'), 400, '/pathParameters/sessionId'],
    ['a nested attribute', () => prefill({ attributes: { address: { city: 'Paris' } } }), 400, '/attributes/address'],
    ['an array attribute', () => prefill({ attributes: { tags: ['a'] } }), 400, '/attributes/tags'],
    ['a null attribute', () => prefill({ attributes: { middle_name: null } }), 400, '/attributes/middle_name'],
    ['a bad key', () => prefill({ attributes: { 'first name': 'Jane' } }), 400, '/attributes/first name'],
    ['malformed JSON', () => prefill('{"attributes":'), 400, '/'],
  ])('refuses %s', (_case, event, status, path) => {
    it(`with a ${status} problem naming ${path}, and calls nothing`, async () => {
      // Prepare
      const handler = await coldStart();

      // Act
      const answer = await call(handler, event());

      // Assess
      expect(answer.statusCode).toBe(status);
      expect(answer.headers['content-type']).toBe('application/problem+json');
      expect(answer.json?.['errors']).toContainEqual({ path, message: expect.any(String) });
      expect(genesys.state().requests).toEqual([]);
      expect(sqs.commandCalls(SendMessageBatchCommand)).toEqual([]);
    });
  });

  it('refuses a body that is not JSON with 415', async () => {
    // Prepare
    const handler = await coldStart();

    // Act
    const answer = await call(handler, prefill('attributes=1', SESSION_ID, { 'content-type': 'text/plain' }));

    // Assess
    expect(answer.statusCode).toBe(415);
    expect(genesys.state().requests).toEqual([]);
  });

  it('takes a body sent as Application/JSON (media types are case-insensitive)', async () => {
    // Prepare
    const handler = await coldStart();

    // Act
    const answer = await call(handler, prefill({ attributes: { tier: 'gold' } }, SESSION_ID, { 'content-type': 'Application/JSON; charset=UTF-8' }));

    // Assess
    expect(answer.statusCode).toBe(200);
    expect(genesys.state().sessions[SESSION_ID]).toEqual({ tier: 'gold' });
  });

  it('answers 404 for an expired session and queues nothing', async () => {
    // Prepare
    const handler = await coldStart();
    await fetch(`${genesys.url}/__sandbox/sessions/${SESSION_ID}/expire`, { method: 'POST' });

    // Act
    const answer = await call(handler, prefill({ attributes: { tier: 'gold' } }));

    // Assess
    expect(answer.statusCode).toBe(404);
    expect(answer.json).toMatchObject({ status: 404, operation: 'putSessionAttributes' });
    expect(sqs.commandCalls(SendMessageBatchCommand)).toEqual([]);
  });

  it('answers 200 with sync "pending" when SQS keeps failing and the outbox keeps the job', async () => {
    // Prepare
    const handler = await coldStart();
    sqs.on(SendMessageBatchCommand).rejects(Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable' }));
    dynamo.on(PutItemCommand).resolves({});

    // Act
    const answer = await call(handler, prefill({ attributes: { tier: 'gold', phone: '555-123-4567' } }));

    // Assess
    expect(answer.statusCode).toBe(200);
    expect(answer.json).toMatchObject({ sync: 'pending', syncJobId: expect.stringMatching(/^prefill-/) });
    const puts = dynamo.commandCalls(PutItemCommand).map((c) => c.args[0].input);
    expect(puts).toHaveLength(1);
    expect(puts[0]).toMatchObject({ TableName: 'unit-state', Item: { pk: { S: `outbox#${String(answer.json?.['syncJobId'])}` } } });
    expect(JSON.stringify(puts[0])).not.toContain('555-123-4567');
  });

  it('answers 502 "applied but not queued" when SQS keeps failing and the outbox cannot keep the job either', async () => {
    // Prepare
    const handler = await coldStart();
    sqs.on(SendMessageBatchCommand).rejects(Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable' }));

    // Act
    const answer = await call(handler, prefill({ attributes: { tier: 'gold' } }));

    // Assess
    expect(answer.statusCode).toBe(502);
    expect(answer.json).toMatchObject({
      type: 'urn:genesys-guest-sync:problem:sync-not-queued',
      attributesApplied: true,
      syncQueued: false,
      syncJobId: expect.stringMatching(/^prefill-/),
      detail: expect.stringMatching(/applied .* could not be queued/),
    });
    expect(genesys.state().sessions[SESSION_ID]).toEqual({ tier: 'gold' });
    expect(sqs.commandCalls(SendMessageBatchCommand).length).toBeGreaterThan(1);
    expect(output.logged('CRM sync job not queued after the attributes were applied; replay it')[0]?.['job']).toMatchObject({
      jobId: answer.json?.['syncJobId'],
    });
  });

  it('succeeds when a failed send is retried successfully', async () => {
    // Prepare
    const handler = await coldStart();
    sqs
      .on(SendMessageBatchCommand)
      .rejectsOnce(new Error('connection reset'))
      .resolves({ Successful: [{ Id: '0', MessageId: 'm-1', MD5OfMessageBody: 'x' }], Failed: [] });

    // Act
    const answer = await call(handler, prefill({ attributes: { tier: 'gold' } }));

    // Assess
    expect(answer.statusCode).toBe(200);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(2);
  });

  it('answers 500 service-misconfigured, audited, when the queue URL is missing', async () => {
    // Prepare
    const misconfigured = await coldStart({ CRM_SYNC_QUEUE_URL: '' });

    // Act
    const answer = await call(misconfigured, prefill({ attributes: { tier: 'gold' } }));

    // Assess
    expect(answer.statusCode).toBe(500);
    expect(answer.json).toMatchObject({ type: 'urn:genesys-guest-sync:problem:service-misconfigured' });
    expect(output.logged('audit')).toEqual([expect.objectContaining({ type: 'prefill_failure', status: 500 })]);
    expect(genesys.state().requests).toEqual([]);
  });

  it('writes one audit line per request, with no attribute value in any log line', async () => {
    // Prepare
    const handler = await coldStart();

    // Act
    await call(handler, prefill({ attributes: { first_name: 'Xanthippe', email: 'xan@example.com' } }));
    await call(handler, prefill({ attributes: { first_name: 'Xanthippe', bad: [1] } }));

    // Assess
    expect(output.logged('audit').map((line) => [line['type'], line['status']])).toEqual([
      ['prefill_success', 200],
      ['prefill_failure', 400],
    ]);
    expect(output.text()).not.toContain('Xanthippe');
    expect(output.text()).not.toContain('xan@example.com');
  });
});
