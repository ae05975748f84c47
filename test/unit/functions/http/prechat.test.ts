/**
 * `POST /prechat/enrich` as Lambda runs it (the whole middy stack), called the way the
 * Genesys Data Action calls it: for a conversation the Messenger simulator of the sandbox
 * Genesys (version 2) started with a guest's first message, against the CRM sandbox and
 * the local Secrets Manager on 127.0.0.1, with SQS faked by aws-sdk-client-mock.
 */
import { readFile } from 'node:fs/promises';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startHubSpotSandbox, type HubSpotSandbox } from '#local/sandbox/crm-providers/index.ts';
import { startGenesysSandboxV2, type GenesysSandboxV2 } from '#local/sandbox/genesys/index.ts';
import { startCrmSandbox, type CrmSandbox } from '#local/sandbox/index.ts';
import { startLocalSecretsManager, type LocalSecretsManager } from '#local/secrets-manager.ts';
import { captureOutput, freshHandler, lambdaContext, type CapturedOutput } from '#test/support/lambda.ts';
import { httpEvent } from '#test/support/factories.ts';

const CLIENT = { clientId: 'unit-genesys', clientSecret: 'unit-genesys-secret' };
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/genesys-guest-sync-test-crm-sync';
const QUEUES = { platinum: 'c0ffee00-0000-4000-8000-0000000000a1', gold: 'c0ffee00-0000-4000-8000-0000000000a2', standard: 'c0ffee00-0000-4000-8000-0000000000a3' };
const EMAIL = 'john.doe@example.com';
const PHONE = '+1 415 555 0100';
const sqs = mockClient(SQSClient);

let secrets: LocalSecretsManager;
let genesys: GenesysSandboxV2;
let crm: CrmSandbox;
let hubspot: HubSpotSandbox;
let output: CapturedOutput;
let handler: Handler;

type Handler = (event: unknown, context: Context) => Promise<{ statusCode: number; headers?: Record<string, string>; body?: string }>;

beforeAll(async () => {
  secrets = await startLocalSecretsManager({
    'test/genesys': CLIENT,
    'test/crm': { apiToken: 'crm-token' },
    'test/crm-hubspot': { accessToken: 'pat-prechat' },
    'test/salt': { salt: 'unit-salt' },
  });
  genesys = await startGenesysSandboxV2({ clients: [CLIENT] });
  crm = await startCrmSandbox({
    apiToken: 'crm-token',
    customers: [
      { id: 'cust-1001', email: EMAIL, firstName: 'John', lastName: 'Doe', loyaltyTier: 'platinum', accountStatus: 'active', loyaltyPoints: 1200 },
      { id: 'cust-2002', phone: PHONE, firstName: 'Ada', loyaltyTier: 'diamond' },
    ],
  });
  hubspot = await startHubSpotSandbox({
    accessToken: 'pat-prechat',
    searchLagMs: 0,
    customers: [{ email: EMAIL, firstname: 'John', lastname: 'Doe', loyalty_tier: 'gold', account_status: 'active', loyalty_points: '40' }],
  });
});
afterAll(async () => {
  await Promise.all([secrets.close(), genesys.close(), crm.close(), hubspot.close()]);
});
beforeEach(async () => {
  genesys.reset();
  crm.reset();
  hubspot.reset();
  sqs.reset();
  sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: Array<{ Id: string }> }) => ({
    Successful: input.Entries.map((entry) => ({ Id: entry.Id, MessageId: `m-${entry.Id}`, MD5OfMessageBody: 'x' })),
    Failed: [],
  }));
  output = captureOutput();
  handler = await coldStart();
});
afterEach(() => {
  output.restore();
  vi.unstubAllEnvs();
});

/** Loads the function fresh (a cold start) with the environment serverless.yml gives it. */
async function coldStart(overrides: Record<string, string> = {}): Promise<Handler> {
  const env: Record<string, string> = {
    GENESYS_API_BASE_URL: genesys.url,
    GENESYS_LOGIN_BASE_URL: genesys.url,
    GENESYS_CREDENTIALS_SECRET_ID: 'test/genesys',
    CRM_BASE_URL: crm.url,
    CRM_CREDENTIALS_SECRET_ID: 'test/crm',
    IDENTITY_SALT_SECRET_ID: 'test/salt',
    CRM_SYNC_QUEUE_URL: QUEUE_URL,
    STATE_TABLE_NAME: 'unit-state',
    ROUTING_QUEUES: JSON.stringify(QUEUES),
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    ...overrides,
  };
  return freshHandler<Handler>(() => import('#functions/http/prechat.ts'), env);
}

interface Started {
  conversationId: string;
  customerParticipantId: string;
}

/** A guest's first message through the Messenger simulator: the conversation the flow then enriches. */
async function firstMessage(customAttributes: Record<string, string> = { pageCategory: 'billing' }): Promise<Started> {
  const response = await fetch(`${genesys.url}/__sandbox/messenger/conversations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customAttributes }),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as Started;
}

/** The Data Action's call: API Gateway's event for the body, with a machine token's claims. */
function enrichEvent(body: unknown): unknown {
  return httpEvent({
    method: 'POST',
    path: '/prechat/enrich',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json', 'x-request-id': 'data-action-1' },
    claims: { sub: 'genesys-data-action', scope: 'guest-sync/write' },
  });
}

/** A Lambda context whose remaining time runs down for real (the deadline follows it). */
function contextWithRemaining(ms: number): Context {
  const end = Date.now() + ms;
  return lambdaContext({ getRemainingTimeInMillis: () => Math.max(0, end - Date.now()) });
}

const bodyOf = (result: { body?: string }): Record<string, any> => JSON.parse(result.body ?? '{}');
const queued = (): Array<Record<string, any>> =>
  sqs.commandCalls(SendMessageBatchCommand).flatMap((call) => (call.args[0].input.Entries ?? []).map((e) => JSON.parse(e.MessageBody ?? '{}')));
const customerOf = (conversationId: string) => genesys.state().conversations[conversationId]!.customer;
const patches = () => genesys.state().requests.filter((r) => r.operation === 'patchConversationParticipantAttributes');
const addFault = async (rule: Record<string, unknown>): Promise<void> => {
  const response = await fetch(`${genesys.url}/__sandbox/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ rules: [{ operation: 'patchConversationParticipantAttributes', ...rule }] }),
  });
  expect(response.status).toBe(201);
};

describe('POST /prechat/enrich: a known customer', () => {
  it('answers the flat body the Data Action maps, with the queue id of the tier', async () => {
    // Prepare
    const { conversationId, customerParticipantId } = await firstMessage();

    // Act
    const result = await handler(
      enrichEvent({ conversationId, participantId: customerParticipantId, surveyAnswers: { email: EMAIL, subject: 'Billing Inquiry', priority: 'high' } }),
      lambdaContext(),
    );

    // Assess
    expect(result.statusCode).toBe(200);
    expect(result.headers).toMatchObject({ 'x-request-id': 'data-action-1' });
    expect(bodyOf(result)).toEqual({
      status: 'enriched',
      enriched: true,
      conversationId,
      routingQueue: 'platinum',
      routingQueueId: QUEUES.platinum,
      loyaltyTier: 'platinum',
      accountStatus: 'active',
      customerId: 'cust-1001',
      firstName: 'John',
      lastName: 'Doe',
      loyaltyPoints: 1200,
    });
  });

  it('PATCHes the merged profile onto the guest participant as prechat: strings, keeping what the page set, with no email or phone', async () => {
    // Prepare
    const { conversationId, customerParticipantId } = await firstMessage({ pageCategory: 'billing', gsRef: 'r'.repeat(32) });

    // Act
    await handler(
      enrichEvent({ conversationId, participantId: customerParticipantId, surveyAnswers: { email: EMAIL, phone: PHONE, subject: 'Billing Inquiry', priority: 'high' } }),
      lambdaContext(),
    );

    // Assess
    const customer = customerOf(conversationId);
    expect(customer.attributes).toEqual({
      pageCategory: 'billing',
      gsRef: 'r'.repeat(32),
      'prechat:customerId': 'cust-1001',
      'prechat:firstName': 'John',
      'prechat:lastName': 'Doe',
      'prechat:loyaltyTier': 'platinum',
      'prechat:accountStatus': 'active',
      'prechat:loyaltyPoints': '1200',
      'prechat:subject': 'Billing Inquiry',
      'prechat:priority': 'high',
      'prechat:enriched': 'true',
      'prechat:routingQueue': 'platinum',
      'prechat:routingQueueId': QUEUES.platinum,
    });
    expect(JSON.stringify(customer.attributes)).not.toMatch(/john\.doe|555/);
    expect(genesys.state().piiFindings).toEqual([]);
    expect(patches()).toHaveLength(1);
    expect(output.text()).not.toMatch(/john\.doe|555 0100/);
  });

  it('enqueues one CRM sync job keyed by the CRM customer id, with hashes and no raw identifier', async () => {
    // Prepare
    const { conversationId, customerParticipantId } = await firstMessage();

    // Act
    await handler(enrichEvent({ conversationId, participantId: customerParticipantId, surveyAnswers: { email: EMAIL } }), lambdaContext());

    // Assess
    const jobs = queued();
    expect(jobs).toEqual([
      expect.objectContaining({
        source: 'prechat',
        record: expect.objectContaining({
          externalId: 'cust-1001',
          emailHash: expect.stringMatching(/^[0-9a-f]{64}$/),
          channelContext: expect.objectContaining({ conversationId, participantId: customerParticipantId, routingQueueId: QUEUES.platinum }),
        }),
      }),
    ]);
    expect(JSON.stringify(jobs)).not.toContain(EMAIL);
  });

  it('routes a tier ROUTING_QUEUES does not name to the standard queue (found by phone)', async () => {
    // Prepare
    const { conversationId, customerParticipantId } = await firstMessage();

    // Act
    const result = await handler(enrichEvent({ conversationId, participantId: customerParticipantId, surveyAnswers: { phone: PHONE } }), lambdaContext());

    // Assess
    expect(bodyOf(result)).toMatchObject({ enriched: true, loyaltyTier: 'diamond', routingQueue: 'standard', routingQueueId: QUEUES.standard, customerId: 'cust-2002' });
  });
});

describe('POST /prechat/enrich: unenriched', () => {
  it('continues with the defaults on the standard queue when the CRM does not know the guest, keyed by the conversation id', async () => {
    // Prepare
    const { conversationId, customerParticipantId } = await firstMessage();

    // Act
    const result = await handler(enrichEvent({ conversationId, participantId: customerParticipantId, surveyAnswers: { email: 'stranger@example.com', phone: '' } }), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toEqual({
      status: 'enriched',
      enriched: false,
      conversationId,
      routingQueue: 'standard',
      routingQueueId: QUEUES.standard,
      loyaltyTier: 'standard',
      accountStatus: 'active',
    });
    expect(customerOf(conversationId).attributes).toMatchObject({ 'prechat:enriched': 'false', 'prechat:subject': 'General Inquiry', 'prechat:priority': 'normal' });
    expect(queued()).toEqual([expect.objectContaining({ record: expect.objectContaining({ externalId: conversationId }) })]);
    expect(genesys.state().piiFindings).toEqual([]);
  });

  it('answers 200 unenriched, never a 5xx, when the CRM fails', async () => {
    // Prepare
    const { conversationId, customerParticipantId } = await firstMessage();
    await fetch(`${crm.url}/__sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rules: [{ operation: 'lookupCustomers', status: 503 }] }),
    });

    // Act
    const result = await handler(enrichEvent({ conversationId, participantId: customerParticipantId, surveyAnswers: { email: EMAIL } }), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({ enriched: false, routingQueueId: QUEUES.standard });
    expect(customerOf(conversationId).attributes['prechat:enriched']).toBe('false');
  });
});

describe('POST /prechat/enrich on HubSpot (CRM_PROVIDER=hubspot)', () => {
  const onHubSpot = (): Promise<Handler> =>
    coldStart({ CRM_PROVIDER: 'hubspot', CRM_BASE_URL: hubspot.url, HUBSPOT_ID_PROPERTY: 'guest_sync_external_id', CRM_CREDENTIALS_SECRET_ID: 'test/crm-hubspot' });

  it('enriches from the contact HubSpot search finds', async () => {
    // Prepare
    handler = await onHubSpot();
    const { conversationId, customerParticipantId } = await firstMessage();

    // Act
    const result = await handler(enrichEvent({ conversationId, participantId: customerParticipantId, surveyAnswers: { email: EMAIL } }), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({ enriched: true, routingQueue: 'gold', routingQueueId: QUEUES.gold, firstName: 'John', loyaltyPoints: 40 });
    expect(hubspot.state().requests.map((r) => r.operation)).toEqual(['searchContacts']);
    expect(crm.state().requests).toEqual([]);
  });

  it("answers 200 unenriched, never an error, when HubSpot's search limit refuses the lookup (429)", async () => {
    // Prepare
    handler = await onHubSpot();
    const { conversationId, customerParticipantId } = await firstMessage();
    hubspot.faults.add([{ operation: 'searchContacts', status: 429, body: { status: 'error', message: 'You have reached your secondly limit.', errorType: 'RATE_LIMIT', policyName: 'SECONDLY' } }]);

    // Act
    const result = await handler(enrichEvent({ conversationId, participantId: customerParticipantId, surveyAnswers: { email: EMAIL } }), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({ enriched: false, routingQueue: 'standard', routingQueueId: QUEUES.standard });
    expect(hubspot.state().requestsByStatus).toMatchObject({ '429': 1 });
    expect(output.text()).toMatch(/rate_limited/);
  });
});

describe('POST /prechat/enrich: Genesys failures map as in prefill, and enqueue nothing', () => {
  it('answers 404 when the conversation does not exist', async () => {
    // Act
    const result = await handler(
      enrichEvent({ conversationId: '0b7a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d', participantId: '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f', surveyAnswers: { email: EMAIL } }),
      lambdaContext(),
    );

    // Assess
    expect(result.statusCode).toBe(404);
    expect(result.headers?.['content-type']).toContain('application/problem+json');
    expect(bodyOf(result)).toMatchObject({ status: 404, conversationId: '0b7a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d' });
    expect(queued()).toEqual([]);
  });

  it('answers 404 when the participant is not on the conversation', async () => {
    // Prepare
    const { conversationId } = await firstMessage();

    // Act
    const result = await handler(enrichEvent({ conversationId, participantId: '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f', surveyAnswers: { email: EMAIL } }), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(404);
    expect(queued()).toEqual([]);
  });

  it('answers 503 with Retry-After once Genesys has throttled every attempt', async () => {
    // Prepare
    const { conversationId, customerParticipantId } = await firstMessage();
    await addFault({ status: 429, retryAfterSeconds: 1 });

    // Act
    const result = await handler(enrichEvent({ conversationId, participantId: customerParticipantId, surveyAnswers: { email: EMAIL } }), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(503);
    expect(result.headers?.['Retry-After'] ?? result.headers?.['retry-after']).toBe('1');
    expect(output.text()).not.toContain(EMAIL);
    expect(patches()).toHaveLength(3);
    expect(customerOf(conversationId).attributes['prechat:enriched']).toBeUndefined();
    expect(queued()).toEqual([]);
  });

  it.each([
    ['401 after one token refresh', { status: 401 }, 2],
    ['403', { status: 403 }, 1],
    ['500 on every attempt', { status: 500 }, 3],
  ])('answers 502 on %s', async (_case, fault, attempts) => {
    // Prepare
    const { conversationId, customerParticipantId } = await firstMessage();
    await addFault(fault);

    // Act
    const result = await handler(enrichEvent({ conversationId, participantId: customerParticipantId, surveyAnswers: { email: EMAIL } }), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(502);
    expect(bodyOf(result)).toMatchObject({ status: 502, operation: 'patchParticipantAttributes' });
    expect(patches()).toHaveLength(attempts);
    expect(queued()).toEqual([]);
  });

  it('answers 504 when Genesys does not answer before the deadline', async () => {
    // Prepare: 3 s left in the invocation (the deadline keeps 2 s back), Genesys answers after 5 s.
    const { conversationId, customerParticipantId } = await firstMessage();
    await addFault({ delayMs: 5_000 });

    // Act
    const result = await handler(enrichEvent({ conversationId, participantId: customerParticipantId, surveyAnswers: { email: EMAIL } }), contextWithRemaining(3_000));

    // Assess
    expect(result.statusCode).toBe(504);
    expect(queued()).toEqual([]);
  });
});

describe('POST /prechat/enrich: bad input is a 400 that reaches neither Genesys nor the CRM', () => {
  const ids = { conversationId: '0b7a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d', participantId: '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f' };

  it.each<[string, unknown, string]>([
    ['neither email nor phone', { ...ids, surveyAnswers: { subject: 'Hello' } }, '/surveyAnswers'],
    ['empty email and phone', { ...ids, surveyAnswers: { email: '', phone: '' } }, '/surveyAnswers'],
    ['no conversation id', { participantId: ids.participantId, surveyAnswers: { email: EMAIL } }, '/conversationId'],
    ['a participant id that is not a UUID', { ...ids, participantId: 'customer', surveyAnswers: { email: EMAIL } }, '/participantId'],
    ['an unknown answer', { ...ids, surveyAnswers: { email: EMAIL, ssn: '123-45-6789' } }, '/surveyAnswers/ssn'],
    ['the old body (a session token, no ids)', { surveyAnswers: { email: EMAIL }, sessionToken: 'wm-1' }, '/conversationId'],
  ])('%s', async (_case, body, path) => {
    // Act
    const result = await handler(enrichEvent(body), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toMatchObject({ status: 400, errors: expect.arrayContaining([expect.objectContaining({ path })]) });
    expect(result.body).not.toContain('123-45-6789');
    expect(patches()).toEqual([]);
    expect(crm.state().requests).toEqual([]);
    expect(queued()).toEqual([]);
  });
});

describe('events/prechat-enrich.json', () => {
  it('is a body this route accepts: with its ids replaced by a live conversation, it enriches', async () => {
    // Prepare
    const { conversationId, customerParticipantId } = await firstMessage();
    const sample = JSON.parse(await readFile('events/prechat-enrich.json', 'utf8')) as { body: string };
    const event = { ...sample, body: JSON.stringify({ ...JSON.parse(sample.body), conversationId, participantId: customerParticipantId }) };

    // Act
    const result = await handler(event, lambdaContext());

    // Assess
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({ enriched: true, routingQueue: 'platinum' });
  });
});

describe('misconfiguration', () => {
  it('answers 500 service-misconfigured without ROUTING_QUEUES, and logs the variable at cold start', async () => {
    // Prepare
    const misconfigured = await coldStart({ ROUTING_QUEUES: '' });
    const { conversationId, customerParticipantId } = await firstMessage();

    // Act
    const result = await misconfigured(enrichEvent({ conversationId, participantId: customerParticipantId, surveyAnswers: { email: EMAIL } }), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(500);
    expect(bodyOf(result)['type']).toContain('service-misconfigured');
    expect(output.logged('Invalid configuration at cold start')[0]?.['variables']).toContain('ROUTING_QUEUES');
    expect(patches()).toEqual([]);
  });
});
