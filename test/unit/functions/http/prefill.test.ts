/**
 * The prefill function as Lambda runs it (the whole middy stack), against the sandbox
 * Genesys (version 2, with its Messenger simulator), the local Secrets Manager and an
 * embedded DynamoDB-compatible server holding the state table, all on 127.0.0.1. SQS is
 * faked by aws-sdk-client-mock so the queued message can be read and sends can fail;
 * DynamoDB calls go through aws-sdk-client-mock too, forwarded to the embedded server, so a
 * test can make the outbox refuse a job while the prepared sessions still work.
 */
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DynamoStateTable, PreparedSessions } from '#lib/state';
import type { EmbeddedDynamoDb } from '#local/dynamodb.ts';
import { startGenesysSandboxV2, type GenesysSandboxV2 } from '#local/sandbox/genesys/index.ts';
import { startLocalSecretsManager, type LocalSecretsManager } from '#local/secrets-manager.ts';
import { captureOutput, freshHandler, lambdaContext, type CapturedOutput } from '#test/support/lambda.ts';
import { startStateTable } from '#test/support/state-table.ts';
import { call, type WrappedHttpHandler } from '#test/unit/lib/lambda/support.ts';
import { httpEvent } from '#test/support/factories.ts';

const SESSION_ID = '3f6c1d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f';
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/genesys-guest-sync-test-crm-sync';
const CLIENT = { clientId: 'unit-client', clientSecret: 'unit-client-secret' };
const PATCH = 'patchConversationParticipantAttributes';
const TABLE = { tableName: 'unit-state' };

// The real send, kept before aws-sdk-client-mock replaces it, to forward DynamoDB calls to the embedded server.
const realSend = DynamoDBClient.prototype.send;
const sqs = mockClient(SQSClient);
let dynamo: AwsClientStub<DynamoDBClient>;

let genesys: GenesysSandboxV2;
let secrets: LocalSecretsManager;
let dynamodb: EmbeddedDynamoDb;
let sessions: PreparedSessions;
let output: CapturedOutput;
let tableRun = 0;

/** Any of the four item commands the state table sends. */
type ItemCommand = new (input: any) => unknown;
const forward = (Command: ItemCommand) => (input: unknown) => (realSend as (command: unknown) => Promise<unknown>).call(dynamodb.client, new Command(input));

beforeAll(async () => {
  genesys = await startGenesysSandboxV2({ clients: [CLIENT] });
  secrets = await startLocalSecretsManager({
    'test/genesys-credentials': CLIENT,
    'test/identity-salt': { salt: 'unit-test-salt' },
  });
  dynamodb = await startStateTable(TABLE.tableName);
  // Mocked only once the embedded server has its table (its creation goes through the real client).
  dynamo = mockClient(DynamoDBClient);
});
afterAll(async () => {
  await genesys.close();
  await secrets.close();
  dynamo.restore();
  await dynamodb.close();
});
beforeEach(() => {
  genesys.reset();
  sqs.reset();
  dynamo.reset();
  dynamo.on(GetItemCommand).callsFake(forward(GetItemCommand));
  dynamo.on(PutItemCommand).callsFake(forward(PutItemCommand));
  dynamo.on(DeleteItemCommand).callsFake(forward(DeleteItemCommand));
  dynamo.on(QueryCommand).callsFake(forward(QueryCommand));
  sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: Array<{ Id: string }> }) => ({
    Successful: input.Entries.map((entry) => ({ Id: entry.Id, MessageId: `message-${entry.Id}`, MD5OfMessageBody: 'x' })),
    Failed: [],
  }));
  // Each test prefills a session of its own, so nothing stored by one test is seen by another.
  tableRun += 1;
  sessions = new PreparedSessions(new DynamoStateTable({ tableName: TABLE.tableName, client: dynamodb.client }));
  output = captureOutput();
});
afterEach(() => {
  output.restore();
  vi.unstubAllEnvs();
});

/** A session id of this test's own. */
const sessionOf = (n = 0): string => `${SESSION_ID.slice(0, -4)}${String(tableRun * 10 + n).padStart(4, '0')}`;

/** Loads the function fresh (a cold start) with the test environment. */
async function coldStart(overrides: Record<string, string> = {}): Promise<WrappedHttpHandler> {
  const env: Record<string, string> = {
    GENESYS_API_BASE_URL: genesys.url,
    GENESYS_LOGIN_BASE_URL: genesys.url,
    GENESYS_CREDENTIALS_SECRET_ID: 'test/genesys-credentials',
    IDENTITY_SALT_SECRET_ID: 'test/identity-salt',
    CRM_SYNC_QUEUE_URL: QUEUE_URL,
    STATE_TABLE_NAME: TABLE.tableName,
    PREFILL_TTL_SECONDS: '1800',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
    ...overrides,
  };
  return freshHandler<WrappedHttpHandler>(() => import('#functions/http/prefill.ts'), env);
}

const prefill = (body: unknown, sessionId = sessionOf(), headers: Record<string, string> = {}) =>
  httpEvent({
    method: 'POST',
    path: `/sessions/${sessionId}/prefill`,
    pathParameters: { sessionId },
    body,
    headers: { 'x-request-id': 'prefill-test-1', ...headers },
    claims: { sub: 'crm-connector', scope: 'guest-sync/write' },
  });

const genesysRequests = () => genesys.state().requests.filter((r) => r.operation !== 'loginClientCredentialsGrant' && r.operation !== 'token');
const patches = () => genesys.state().requests.filter((r) => r.operation === PATCH);
const sentBodies = (): string[] =>
  sqs.commandCalls(SendMessageBatchCommand).flatMap((c) => (c.args[0].input.Entries ?? []).map((e) => e.MessageBody ?? ''));
const storedKeys = (): string[] =>
  dynamo.commandCalls(PutItemCommand).map((c) => String(c.args[0].input.Item?.['pk']?.S ?? '')).filter((pk) => !pk.startsWith('outbox#'));

/** Attributes whose processed `{attributes}` is exactly `bytes` bytes. */
const attributesOfBytes = (bytes: number) => {
  const overhead = Buffer.byteLength(JSON.stringify({ attributes: { note: '' } }));
  return { note: 'x'.repeat(bytes - overhead) };
};

/** The guest's first message through the Messenger simulator, carrying what the page set. */
async function startConversation(customAttributes: Record<string, string>): Promise<{ conversationId: string; customerParticipantId: string }> {
  const response = await fetch(`${genesys.url}/__sandbox/messenger/conversations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customAttributes }),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as { conversationId: string; customerParticipantId: string };
}

/** Prefills, starts the conversation with the answer's map, and links them as the events function will. */
async function linkedSession(handler: WrappedHttpHandler, sessionId = sessionOf()): Promise<{ conversationId: string; participantId: string; gsRef: string }> {
  const first = await call(handler, prefill({ attributes: { tier: 'silver' } }, sessionId));
  expect(first.statusCode).toBe(200);
  const customAttributes = first.json?.['customAttributes'] as Record<string, string>;
  const started = await startConversation(customAttributes);
  const link = { conversationId: started.conversationId, participantId: started.customerParticipantId };
  await sessions.link(sessionId, link, new Date().toISOString());
  sqs.resetHistory();
  dynamo.resetHistory();
  return { ...link, gsRef: customAttributes['gsRef'] ?? '' };
}

const participantAttributes = (conversationId: string): Record<string, string> | undefined =>
  genesys.state().conversations[conversationId]?.customer.attributes;

describe('POST /sessions/{sessionId}/prefill', () => {
  it('prepares the seed example, calls no Genesys operation before the first message, and queues one job without plaintext identifiers', async () => {
    // Prepare
    const handler = await coldStart();
    const sessionId = sessionOf();
    const body = {
      attributes: { first_name: 'Jane', account_tier: 'enterprise', email: 'jane.doe@enterprise.com', phone: '555-123-4567', zip: '02134' },
      consent: { consent_terms_accepted: 'true', marketing_opt_in: 'false' },
    };

    // Act
    const answer = await call(handler, prefill(body, sessionId));

    // Assess
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['x-request-id']).toBe('prefill-test-1');
    const gsRef = (answer.json?.['customAttributes'] as Record<string, string>)['gsRef'];
    expect(answer.json).toEqual({
      sessionId,
      attributeCount: 7,
      byteSize: expect.any(Number),
      maskedKeys: ['email', 'phone'],
      syncJobId: expect.stringMatching(/^prefill-[0-9a-f]{32}$/),
      applied: 'pending',
      sync: 'queued',
      customAttributes: {
        first_name: 'Jane',
        account_tier: 'enterprise',
        email: '*'.repeat(23),
        phone: '***-***-****',
        zip: '02134',
        consent_terms_accepted: 'true',
        marketing_opt_in: 'false',
        gsRef: expect.stringMatching(/^[A-Za-z0-9_-]{24}$/),
      },
    });
    expect(genesysRequests()).toEqual([]);
    expect(await sessions.byRef(gsRef ?? '')).toMatchObject({ sessionId, attributes: { email: '*'.repeat(23), consent_terms_accepted: 'true' } });
    const [message, ...others] = sentBodies();
    expect(others).toEqual([]);
    expect(message).not.toMatch(/jane\.doe|enterprise\.com|555-123-4567/);
    expect(JSON.parse(message ?? '{}')).toMatchObject({
      kind: 'crm.upsert',
      source: 'prefill',
      jobId: answer.json?.['syncJobId'],
      record: {
        externalId: sessionId,
        emailHash: expect.stringMatching(/^[0-9a-f]{64}$/),
        phoneHash: expect.stringMatching(/^[0-9a-f]{64}$/),
        consentFlags: { consent_terms_accepted: true, marketing_opt_in: false },
      },
    });
  });

  it('gives the conversation the prepared attributes when the page passes customAttributes to the first message', async () => {
    // Prepare
    const handler = await coldStart();
    const answer = await call(handler, prefill({ attributes: { tier: 'gold', vip: 'true', visits: 3 } }));

    // Act
    const started = await startConversation(answer.json?.['customAttributes'] as Record<string, string>);

    // Assess
    expect(participantAttributes(started.conversationId)).toEqual({
      tier: 'gold',
      vip: 'true',
      visits: '3',
      gsRef: (answer.json?.['customAttributes'] as Record<string, string>)['gsRef'],
    });
  });

  it('keeps the reference on a second prefill of the session', async () => {
    // Prepare
    const handler = await coldStart();
    const first = await call(handler, prefill({ attributes: { tier: 'gold' } }));

    // Act
    const second = await call(handler, prefill({ attributes: { tier: 'platinum' } }));

    // Assess
    const ref = (first.json?.['customAttributes'] as Record<string, string>)['gsRef'] ?? '';
    expect(second.json?.['customAttributes']).toEqual({ tier: 'platinum', gsRef: ref });
    expect((await sessions.byRef(ref))?.attributes).toEqual({ tier: 'platinum' });
  });

  it('PATCHes the guest participant at once, string values only, when the session is linked to a live conversation', async () => {
    // Prepare
    const handler = await coldStart();
    const { conversationId, gsRef } = await linkedSession(handler);

    // Act
    const answer = await call(handler, prefill({ attributes: { tier: 'platinum', vip: true } }));

    // Assess
    expect(answer.statusCode).toBe(200);
    expect(answer.json).toMatchObject({ applied: 'conversation', sync: 'queued', customAttributes: { tier: 'platinum', vip: 'true', gsRef } });
    expect(patches()).toHaveLength(1);
    expect(participantAttributes(conversationId)).toEqual({ tier: 'platinum', vip: 'true', gsRef });
    expect(sentBodies()).toHaveLength(1);
  });

  it('answers "pending" and calls nothing once the linked conversation has ended', async () => {
    // Prepare
    const handler = await coldStart();
    const { conversationId } = await linkedSession(handler);
    await sessions.end(conversationId, new Date().toISOString());

    // Act
    const answer = await call(handler, prefill({ attributes: { tier: 'platinum' } }));

    // Assess
    expect(answer.statusCode).toBe(200);
    expect(answer.json?.['applied']).toBe('pending');
    expect(patches()).toEqual([]);
    expect(participantAttributes(conversationId)).toMatchObject({ tier: 'silver' });
  });

  describe.each([
    ['404 (conversation gone)', [{ operation: PATCH, status: 404 }], 404, [404]],
    ['429 three times', [{ operation: PATCH, status: 429, retryAfterSeconds: 1, times: 3 }], 503, [429, 429, 429]],
    ['401 even after a token refresh', [{ operation: PATCH, status: 401, times: 2 }], 502, [401, 401]],
    ['403', [{ operation: PATCH, status: 403 }], 502, [403]],
    ['500 three times', [{ operation: PATCH, status: 500, times: 3 }], 502, [500, 500, 500]],
  ])('when the PATCH meets Genesys %s', (_case, rules, status, seen) => {
    it(`answers ${status}, queues nothing, and keeps the new preparation`, async () => {
      // Prepare
      const handler = await coldStart();
      const { conversationId } = await linkedSession(handler);
      await fetch(`${genesys.url}/__sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rules }) });

      // Act
      const answer = await call(handler, prefill({ attributes: { tier: 'platinum' } }));

      // Assess
      expect(answer.statusCode).toBe(status);
      expect(answer.headers['content-type']).toBe('application/problem+json');
      expect(answer.json).toMatchObject({ status, operation: 'patchParticipantAttributes' });
      if (status === 503) expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(patches().map((r) => r.status)).toEqual(seen);
      expect(sentBodies()).toEqual([]);
      expect(participantAttributes(conversationId)).toMatchObject({ tier: 'silver' });
      expect((await sessions.get(sessionOf()))?.attributes).toEqual({ tier: 'platinum' });
    });
  });

  it('answers 504 and queues nothing when the PATCH does not answer within the function time', async () => {
    // Prepare
    const handler = await coldStart();
    await linkedSession(handler);
    await fetch(`${genesys.url}/__sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rules: [{ operation: PATCH, delayMs: 4_000 }] }),
    });

    // Act
    const answer = await call(handler, prefill({ attributes: { tier: 'platinum' } }), lambdaContext({ getRemainingTimeInMillis: () => 2_500 }));

    // Assess
    expect(answer.statusCode).toBe(504);
    expect(sentBodies()).toEqual([]);
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
      expect(storedKeys()).toHaveLength(2);
    });

    it('refuses 10,241 bytes with 413 naming the size, and stores and sends nothing', async () => {
      // Prepare
      const handler = await coldStart();

      // Act
      const answer = await call(handler, prefill({ attributes: attributesOfBytes(10_241) }));

      // Assess
      expect(answer.statusCode).toBe(413);
      expect(answer.headers['content-type']).toBe('application/problem+json');
      expect(answer.json).toMatchObject({ status: 413, detail: expect.stringContaining('10241 bytes'), byteSize: 10_241 });
      expect(storedKeys()).toEqual([]);
      expect(await sessions.get(sessionOf())).toBeUndefined();
      expect(genesysRequests()).toEqual([]);
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
    it(`with a ${status} problem naming ${path}, and stores and calls nothing`, async () => {
      // Prepare
      const handler = await coldStart();

      // Act
      const answer = await call(handler, event());

      // Assess
      expect(answer.statusCode).toBe(status);
      expect(answer.headers['content-type']).toBe('application/problem+json');
      expect(answer.json?.['errors']).toContainEqual({ path, message: expect.any(String) });
      expect(storedKeys()).toEqual([]);
      expect(genesysRequests()).toEqual([]);
      expect(sqs.commandCalls(SendMessageBatchCommand)).toEqual([]);
    });
  });

  it('refuses a body that is not JSON with 415', async () => {
    // Prepare
    const handler = await coldStart();

    // Act
    const answer = await call(handler, prefill('attributes=1', sessionOf(), { 'content-type': 'text/plain' }));

    // Assess
    expect(answer.statusCode).toBe(415);
    expect(storedKeys()).toEqual([]);
  });

  it('takes a body sent as Application/JSON (media types are case-insensitive)', async () => {
    // Prepare
    const handler = await coldStart();

    // Act
    const answer = await call(handler, prefill({ attributes: { tier: 'gold' } }, sessionOf(), { 'content-type': 'Application/JSON; charset=UTF-8' }));

    // Assess
    expect(answer.statusCode).toBe(200);
    expect((await sessions.get(sessionOf()))?.attributes).toEqual({ tier: 'gold' });
  });

  it('answers 503 with Retry-After and sends nothing when the state table is unavailable', async () => {
    // Prepare
    const handler = await coldStart();
    dynamo.on(PutItemCommand).rejects(Object.assign(new Error('unavailable'), { name: 'InternalServerError', $metadata: {} }));

    // Act
    const answer = await call(handler, prefill({ attributes: { tier: 'gold' } }));

    // Assess
    expect(answer.statusCode).toBe(503);
    expect(answer.headers['retry-after']).toBe('1');
    expect(genesysRequests()).toEqual([]);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toEqual([]);
  });

  it('answers 200 with sync "pending" when SQS keeps failing and the outbox keeps the job', async () => {
    // Prepare
    const handler = await coldStart();
    sqs.on(SendMessageBatchCommand).rejects(Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable' }));

    // Act
    const answer = await call(handler, prefill({ attributes: { tier: 'gold', phone: '555-123-4567' } }));

    // Assess
    expect(answer.statusCode).toBe(200);
    expect(answer.json).toMatchObject({ sync: 'pending', syncJobId: expect.stringMatching(/^prefill-/) });
    const outbox = dynamo
      .commandCalls(PutItemCommand)
      .map((c) => c.args[0].input)
      .filter((input) => String(input.Item?.['pk']?.S).startsWith('outbox#'));
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({ TableName: TABLE.tableName, Item: { pk: { S: `outbox#${String(answer.json?.['syncJobId'])}` } } });
    expect(JSON.stringify(outbox[0])).not.toContain('555-123-4567');
  });

  it('answers 502 "prepared but not queued" when SQS keeps failing and the outbox cannot keep the job either', async () => {
    // Prepare
    const handler = await coldStart();
    sqs.on(SendMessageBatchCommand).rejects(Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable' }));
    dynamo.on(PutItemCommand).callsFake((input: { Item: { pk: { S: string } } }) => {
      if (input.Item.pk.S.startsWith('outbox#')) throw Object.assign(new Error('unavailable'), { name: 'InternalServerError', $metadata: {} });
      return forward(PutItemCommand)(input);
    });

    // Act
    const answer = await call(handler, prefill({ attributes: { tier: 'gold' } }));

    // Assess
    expect(answer.statusCode).toBe(502);
    expect(answer.json).toMatchObject({
      type: 'urn:genesys-guest-sync:problem:sync-not-queued',
      attributesPrepared: true,
      attributesApplied: false,
      syncQueued: false,
      syncJobId: expect.stringMatching(/^prefill-/),
      detail: expect.stringMatching(/prepared, but CRM sync job .* could not be queued/),
    });
    expect((await sessions.get(sessionOf()))?.attributes).toEqual({ tier: 'gold' });
    expect(sqs.commandCalls(SendMessageBatchCommand).length).toBeGreaterThan(1);
    expect(output.logged('CRM sync job not queued after the attributes were prepared; replay it')[0]?.['job']).toMatchObject({
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
    expect(genesysRequests()).toEqual([]);
  });

  it('writes one audit line per request, with no attribute value and no reference in any log line', async () => {
    // Prepare
    const handler = await coldStart();

    // Act
    const ok = await call(handler, prefill({ attributes: { first_name: 'Xanthippe', email: 'xan@example.com' } }));
    await call(handler, prefill({ attributes: { first_name: 'Xanthippe', bad: [1] } }));

    // Assess
    expect(output.logged('audit').map((line) => [line['type'], line['status'], line['applied']])).toEqual([
      ['prefill_success', 200, 'pending'],
      ['prefill_failure', 400, undefined],
    ]);
    expect(output.text()).not.toContain('Xanthippe');
    expect(output.text()).not.toContain('xan@example.com');
    expect(output.text()).not.toContain((ok.json?.['customAttributes'] as Record<string, string>)['gsRef']);
  });
});
