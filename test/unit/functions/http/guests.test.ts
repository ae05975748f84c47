/**
 * The guest functions as Lambda runs them (the whole middy stack), fed the sample events of
 * `events/`, against the sandbox Genesys (version 2, seeded with the guest set-up), the
 * local Secrets Manager and an embedded DynamoDB-compatible state table on 127.0.0.1, with
 * SQS faked by aws-sdk-client-mock.
 */
import { readFile } from 'node:fs/promises';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startEmbeddedDynamoDb, type EmbeddedDynamoDb } from '#local/dynamodb.ts';
import type { GenesysSandboxV2 } from '#local/sandbox/genesys/index.ts';
import { startLocalSecretsManager, type LocalSecretsManager } from '#local/secrets-manager.ts';
import { captureOutput, freshHandler, lambdaContext, type CapturedOutput } from '#test/support/lambda.ts';
import { CLIENT, SETTINGS, control, startGuestSandbox } from '#test/unit/lib/guests/support.ts';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/genesys-guest-sync-test-crm-sync';
const TABLE = 'unit-guests-state';
const sqs = mockClient(SQSClient);

let secrets: LocalSecretsManager;
let genesys: GenesysSandboxV2;
let dynamo: EmbeddedDynamoDb;
let output: CapturedOutput;

type Result = { statusCode: number; headers?: Record<string, string>; body?: string };
type Handler = (event: unknown, context: Context) => Promise<Result>;

beforeAll(async () => {
  [secrets, genesys, dynamo] = await Promise.all([
    startLocalSecretsManager({ 'test/genesys': CLIENT, 'test/salt': { salt: 'unit-salt' } }),
    startGuestSandbox(),
    startEmbeddedDynamoDb([
      {
        logicalId: 'StateTable',
        tableName: TABLE,
        keySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        attributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        globalSecondaryIndexes: [],
        ttlAttribute: 'expiresAt',
      },
    ]),
  ]);
});
afterAll(async () => {
  await Promise.all([secrets.close(), genesys.close(), dynamo.close()]);
});
beforeEach(() => {
  genesys.reset();
  sqs.reset();
  sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: Array<{ Id: string }> }) => ({
    Successful: input.Entries.map((entry) => ({ Id: entry.Id, MessageId: `m-${entry.Id}`, MD5OfMessageBody: 'x' })),
    Failed: [],
  }));
  output = captureOutput();
});
afterEach(() => {
  output.restore();
  vi.unstubAllEnvs();
});

/** Loads a function fresh (a cold start) with the environment serverless.yml would give it. */
async function coldStart(file: string, overrides: Record<string, string> = {}): Promise<Handler> {
  const env: Record<string, string> = {
    GENESYS_API_BASE_URL: genesys.url,
    GENESYS_LOGIN_BASE_URL: genesys.url,
    GENESYS_CREDENTIALS_SECRET_ID: 'test/genesys',
    IDENTITY_SALT_SECRET_ID: 'test/salt',
    CRM_SYNC_QUEUE_URL: QUEUE_URL,
    STATE_TABLE_NAME: TABLE,
    GUEST_EXTERNAL_SOURCE_ID: SETTINGS.externalSourceId,
    GUEST_CONTACT_SCHEMA_ID: SETTINGS.contactSchemaId,
    GUEST_METRICS_DAYS: '30',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    ...overrides,
  };
  return freshHandler<Handler>(() => import(`#functions/http/guests/${file}`), env);
}

const sample = async (name: string): Promise<Record<string, any>> => JSON.parse(await readFile(`events/${name}.json`, 'utf8'));
const bodyOf = (result: Result): Record<string, any> => JSON.parse(result.body ?? '{}');
const queued = (): Array<Record<string, any>> =>
  sqs.commandCalls(SendMessageBatchCommand).flatMap((call) => (call.args[0].input.Entries ?? []).map((e) => JSON.parse(e.MessageBody ?? '{}')));

/** The sample guest, created through the create function; its id and ETag. */
async function created(): Promise<{ id: string; etag: string; body: Record<string, any> }> {
  const result = await (await coldStart('create.ts'))(await sample('create-guest'), lambdaContext());
  const body = bodyOf(result);
  return { id: body['id'], etag: result.headers?.['ETag'] ?? '', body };
}

/** The sample update event, aimed at `guestId` with `If-Match: ifMatch` (or none). */
async function updateEvent(guestId: string, ifMatch: string | undefined): Promise<Record<string, any>> {
  const event = await sample('update-guest');
  event['pathParameters']['guestId'] = guestId;
  if (ifMatch === undefined) delete event['headers']['if-match'];
  else event['headers']['if-match'] = ifMatch;
  return event;
}

describe('POST /guests (events/create-guest.json)', () => {
  it('creates the guest as an external contact: 201, a strong ETag, Location, the guest representation, one guest job', async () => {
    // Act
    const result = await (await coldStart('create.ts'))(await sample('create-guest'), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(201);
    const body = bodyOf(result);
    expect(result.headers).toMatchObject({ ETag: expect.stringMatching(/^"[A-Za-z0-9_-]{27}"$/), Location: `/guests/${body['id']}`, 'x-request-id': 'sample-request-1' });
    expect(body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      identityAttributes: { emailHash: expect.stringMatching(/^[0-9a-f]{64}$/) },
      consent: { marketing: false, dataProcessing: true },
      channelContext: { originPage: 'https://www.example.com/support', campaignId: 'WINTER-2024' },
      attributes: { source: 'website', loyaltyTier: 'gold' },
      createdDate: expect.any(String),
      modifiedDate: expect.any(String),
    });
    expect(Object.keys(genesys.state().externalContacts)).toEqual([body['id']]);
    expect(genesys.state().piiFindings).toEqual([]);
    expect(JSON.stringify(genesys.state().externalContacts)).not.toContain('jane.doe');
    expect(queued()).toEqual([expect.objectContaining({ source: 'guest', record: expect.objectContaining({ externalId: body['id'] }) })]);
  });

  it('answers 500 service-misconfigured without GUEST_CONTACT_SCHEMA_ID, and logs the variable at cold start', async () => {
    // Act
    const result = await (await coldStart('create.ts', { GUEST_CONTACT_SCHEMA_ID: '' }))(await sample('create-guest'), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(500);
    expect(bodyOf(result)['type']).toContain('service-misconfigured');
    expect(output.logged('Invalid configuration at cold start')[0]?.['variables']).toContain('GUEST_CONTACT_SCHEMA_ID');
    expect(genesys.state().externalContacts).toEqual({});
  });

  it('a create whose answer is lost answers 201 with the one contact Genesys made', async () => {
    // Prepare
    await control(genesys, 'POST', '/__sandbox/faults', { rules: [{ operation: 'postExternalcontactsContacts', times: 1, delayAfterCommitMs: 0, dropConnection: true }] });

    // Act
    const result = await (await coldStart('create.ts'))(await sample('create-guest'), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(201);
    expect(Object.keys(genesys.state().externalContacts)).toEqual([bodyOf(result)['id']]);
  });
});

describe('the Guest audit entries', () => {
  const entries = () => output.logged('Guest audit').map((line) => line['audit'] as Record<string, unknown>);

  it('writes one GUEST_CREATED entry per create: the guest, the caller, the changed field names and the request id, never a value', async () => {
    // Act
    const guest = await created();

    // Assess
    expect(entries()).toEqual([
      {
        eventType: 'GUEST_CREATED',
        guestId: guest.id,
        actor: 'crm-connector',
        changedFields: expect.arrayContaining(['identityAttributes.emailHash', 'attributes.loyaltyTier', 'consent.marketing']),
        resolutionMethod: 'email',
        requestId: 'sample-request-1',
        timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      },
    ]);
    expect(JSON.stringify(output.logged('Guest audit'))).not.toContain('jane.doe');
    expect(JSON.stringify(output.logged('Guest audit'))).not.toContain('platinum');
  });

  it('writes one GUEST_UPDATED entry per update, with the other writers\' changes it merged', async () => {
    // Prepare
    const guest = await created();
    await control(genesys, 'POST', `/__sandbox/externalcontacts/contacts/${guest.id}/touch`, { customFields: { campaignId_identifier: 'AGENT-EDIT' } });

    // Act
    await (await coldStart('update.ts'))(await updateEvent(guest.id, guest.etag), lambdaContext());

    // Assess
    expect(entries().at(-1)).toEqual({
      eventType: 'GUEST_UPDATED',
      guestId: guest.id,
      actor: 'crm-connector',
      changedFields: ['attributes.loyaltyTier', 'consent.marketing'],
      conflictsResolved: 1,
      requestId: expect.any(String),
      timestamp: expect.any(String),
    });
  });

  it('writes no entry for an update that wrote nothing (409)', async () => {
    // Prepare
    const guest = await created();
    const { DynamoStateTable } = await import('#lib/state');
    await new DynamoStateTable({ tableName: TABLE, client: dynamo.client }).put({ pk: `lease#guest#${guest.id}`, owner: 'another-request', leaseUntilMs: Date.now() + 60_000 });

    // Act
    const result = await (await coldStart('update.ts'))(await updateEvent(guest.id, guest.etag), lambdaContext({ getRemainingTimeInMillis: () => 5_500 }));

    // Assess
    expect(result.statusCode).toBe(409);
    expect(entries().map((entry) => entry['eventType'])).toEqual(['GUEST_CREATED']);
  });
});

describe('GET /guests/{guestId} (events/get-guest.json)', () => {
  it('answers the guest with the ETag the create gave', async () => {
    // Prepare
    const guest = await created();
    const event = await sample('get-guest');
    event['pathParameters']['guestId'] = guest.id;

    // Act
    const result = await (await coldStart('get.ts'))(event, lambdaContext());

    // Assess
    expect(result.statusCode).toBe(200);
    expect(result.headers?.['ETag']).toBe(guest.etag);
    expect(bodyOf(result)).toEqual(guest.body);
  });

  it('answers 404 for an unknown guest', async () => {
    // Act
    const result = await (await coldStart('get.ts'))(await sample('get-guest'), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(404);
  });
});

describe('PATCH /guests/{guestId} (events/update-guest.json)', () => {
  it('applies the update at the version read: 200, conflictsResolved 0, a new ETag, one more guest job', async () => {
    // Prepare
    const guest = await created();

    // Act
    const result = await (await coldStart('update.ts'))(await updateEvent(guest.id, guest.etag), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({ conflictsResolved: 0, consent: { marketing: true, dataProcessing: true }, attributes: { loyaltyTier: 'platinum', source: 'website' } });
    expect(result.headers?.['ETag']).not.toBe(guest.etag);
    expect(queued()).toHaveLength(2);
  });

  it('merges over a concurrent writer: the other writer\'s fields are kept, conflictsResolved 1', async () => {
    // Prepare
    const guest = await created();
    await control(genesys, 'POST', `/__sandbox/externalcontacts/contacts/${guest.id}/touch`, { customFields: { campaignId_identifier: 'AGENT-EDIT' } });

    // Act
    const result = await (await coldStart('update.ts'))(await updateEvent(guest.id, guest.etag), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({
      conflictsResolved: 1,
      consent: { marketing: true },
      channelContext: { campaignId: 'AGENT-EDIT', originPage: 'https://www.example.com/support' },
      attributes: { loyaltyTier: 'platinum' },
    });
  });

  it('answers 428 without If-Match, touching neither Genesys nor the state table', async () => {
    // Prepare
    const guest = await created();
    const before = genesys.state().requests.length;

    // Act
    const result = await (await coldStart('update.ts'))(await updateEvent(guest.id, undefined), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(428);
    expect(bodyOf(result)).toMatchObject({ status: 428, type: expect.stringContaining('precondition-required') });
    expect(genesys.state().requests.length).toBe(before);
  });

  it('answers 409 when another request holds the guest\'s write lease, and writes nothing', async () => {
    // Prepare
    const guest = await created();
    const { DynamoStateTable } = await import('#lib/state');
    await new DynamoStateTable({ tableName: TABLE, client: dynamo.client }).put({ pk: `lease#guest#${guest.id}`, owner: 'another-request', leaseUntilMs: Date.now() + 60_000 });

    // Act
    const result = await (await coldStart('update.ts'))(await updateEvent(guest.id, guest.etag), lambdaContext({ getRemainingTimeInMillis: () => 5_500 }));

    // Assess
    expect(result.statusCode).toBe(409);
    expect(bodyOf(result)).toMatchObject({ status: 409, guestId: guest.id });
    expect(genesys.state().requests.filter((entry) => entry.operation === 'putExternalcontactsContact')).toEqual([]);
  });

  it.each(['"v\u20ac1"', 'W/"\u{1F600}"', '1', '"a" "b"'])(
    'refuses If-Match %s (not an entity tag an HTTP client can send) with 400 at the edge, calling Genesys for nothing',
    async (ifMatch) => {
      // Prepare
      const guest = await created();
      const before = genesys.state().requests.length;

      // Act
      const result = await (await coldStart('update.ts'))(await updateEvent(guest.id, ifMatch), lambdaContext());

      // Assess
      expect(result.statusCode).toBe(400);
      expect(bodyOf(result)).toMatchObject({ status: 400, errors: [{ path: '/headers/if-match' }] });
      expect(genesys.state().requests.length).toBe(before);
    },
  );
});

describe('GET /guests/{guestId}/metrics (events/get-guest-metrics.json)', () => {
  it('answers the guest\'s engagement from analytics and records one engagement session', async () => {
    // Prepare
    const guest = await created();
    const { conversationId } = await control<{ conversationId: string }>(genesys, 'POST', '/__sandbox/messenger/conversations', { externalContactId: guest.id });
    await control(genesys, 'POST', `/__sandbox/messenger/conversations/${conversationId}/messages`, {});
    const event = await sample('get-guest-metrics');
    event['pathParameters']['guestId'] = guest.id;

    // Act
    const result = await (await coldStart('metrics.ts'))(event, lambdaContext());

    // Assess
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({ guestId: guest.id, conversationCount: 1, messageCount: 2, avgResponseTimeMs: null, conversionFlag: false });
    expect(output.text()).toContain('"GuestEngagementSessions":1');
  });
});
