/**
 * The guest and widget functions as Lambda runs them (the whole middy stack),
 * fed the sample events of `events/`, against the Genesys and CRM sandboxes and the local
 * Secrets Manager on 127.0.0.1, with SQS faked by aws-sdk-client-mock.
 */
import { readFile } from 'node:fs/promises';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startCrmSandbox, startGenesysSandbox, type CrmSandbox, type GenesysSandbox } from '../../../../local/sandbox/index.ts';
import { startLocalSecretsManager, type LocalSecretsManager } from '../../../../local/secrets-manager.ts';
import { captureOutput, lambdaContext, type CapturedOutput } from '../../../support/lambda.ts';

const CLIENT = { clientId: 'unit-genesys', clientSecret: 'unit-genesys-secret' };
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/genesys-guest-sync-test-crm-sync';
const DEPLOYMENT_ID = '6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b';
const sqs = mockClient(SQSClient);

let secrets: LocalSecretsManager;
let genesys: GenesysSandbox;
let crm: CrmSandbox;
let output: CapturedOutput;

type Handler = (event: unknown, context: Context) => Promise<{ statusCode: number; headers?: Record<string, string>; body?: string }>;

beforeAll(async () => {
  secrets = await startLocalSecretsManager({
    'test/genesys': CLIENT,
    'test/crm': { apiToken: 'crm-token' },
    'test/salt': { salt: 'unit-salt' },
  });
  genesys = await startGenesysSandbox({ clients: [CLIENT] });
  crm = await startCrmSandbox({
    apiToken: 'crm-token',
    customers: [{ id: 'cust-1001', email: 'john.doe@example.com', firstName: 'John', loyaltyTier: 'platinum' }],
  });
});
afterAll(async () => {
  await Promise.all([secrets.close(), genesys.close(), crm.close()]);
});
beforeEach(() => {
  genesys.reset();
  crm.reset();
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
    CRM_BASE_URL: crm.url,
    CRM_CREDENTIALS_SECRET_ID: 'test/crm',
    IDENTITY_SALT_SECRET_ID: 'test/salt',
    CRM_SYNC_QUEUE_URL: QUEUE_URL,
    STATE_TABLE_NAME: 'unit-state',
    ROUTING_QUEUES: JSON.stringify({ platinum: 'q-platinum', gold: 'q-gold', standard: 'q-standard' }),
    WEB_DEPLOYMENT_ID: DEPLOYMENT_ID,
    GENESYS_ORG_ID: 'org-1',
    GUEST_ATTRIBUTE_ALLOWLIST: 'userId,userTier,lastOrderDate',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    ...overrides,
  };
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  vi.resetModules();
  return (await import(`../../../../functions/http/${file}`)).handler as Handler;
}

const sample = async (name: string): Promise<Record<string, any>> => JSON.parse(await readFile(`events/${name}.json`, 'utf8'));
const bodyOf = (result: { body?: string }): Record<string, any> => JSON.parse(result.body ?? '{}');
const queued = (): Array<Record<string, any>> =>
  sqs.commandCalls(SendMessageBatchCommand).flatMap((call) => (call.args[0].input.Entries ?? []).map((e) => JSON.parse(e.MessageBody ?? '{}')));

describe('the sample events', () => {
  it('events/create-guest.json creates a guest: 201, ETag, one guest job', async () => {
    // Prepare
    const handler = await coldStart('guests/create.ts');

    // Act
    const result = await handler(await sample('create-guest'), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(201);
    expect(result.headers).toMatchObject({ ETag: '"1"', 'x-request-id': 'sample-request-1' });
    expect(bodyOf(result)['identityAttributes']['emailHash']).toMatch(/^[0-9a-f]{64}$/);
    expect(queued()).toEqual([expect.objectContaining({ source: 'guest' })]);
  });

  it('events/update-guest.json updates the guest it names (If-Match "1"): 200, conflictsResolved 0', async () => {
    // Prepare: the guest of the sample, at version 1.
    const create = await coldStart('guests/create.ts');
    const created = bodyOf(await create(await sample('create-guest'), lambdaContext()));
    const event = await sample('update-guest');
    event['pathParameters']['guestId'] = created['id'];
    const handler = await coldStart('guests/update.ts');

    // Act
    const result = await handler(event, lambdaContext());

    // Assess
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({ conflictsResolved: 0, consent: { marketing: true, dataProcessing: true }, attributes: { loyaltyTier: 'platinum' } });
  });

  it.each(['"v\u20ac1"', 'W/"\u{1F600}"', '1', '"a" "b"'])(
    'refuses If-Match %s (not an entity tag an HTTP client can send) with 400 at the edge, calling Genesys for nothing',
    async (ifMatch) => {
      // Prepare
      const create = await coldStart('guests/create.ts');
      const created = bodyOf(await create(await sample('create-guest'), lambdaContext()));
      const event = await sample('update-guest');
      event['pathParameters']['guestId'] = created['id'];
      event['headers']['if-match'] = ifMatch;
      const handler = await coldStart('guests/update.ts');
      const before = genesys.state().requests.length;

      // Act
      const result = await handler(event, lambdaContext());

      // Assess
      expect(result.statusCode).toBe(400);
      expect(bodyOf(result)).toMatchObject({ status: 400, errors: [{ path: '/headers/if-match' }] });
      expect(genesys.state().requests.length).toBe(before);
    },
  );

  it('events/get-guest-metrics.json answers the metrics of the guest it names', async () => {
    // Prepare
    const create = await coldStart('guests/create.ts');
    const created = bodyOf(await create(await sample('create-guest'), lambdaContext()));
    const event = await sample('get-guest-metrics');
    event['pathParameters']['guestId'] = created['id'];
    const handler = await coldStart('guests/metrics.ts');

    // Act
    const result = await handler(event, lambdaContext());

    // Assess
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({ guestId: created['id'], messageCount: 0, conversionFlag: false });
    expect(output.text()).toContain('"GuestEngagementSessions":1');
  });

  it('events/widget-config.json serves the widget configuration of the user in its claims', async () => {
    // Prepare
    const handler = await coldStart('widget-config.ts');

    // Act
    const result = await handler(await sample('widget-config'), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({
      deploymentId: DEPLOYMENT_ID,
      guestAttributes: { userId: 'usr_992834', userTier: 'gold', lastOrderDate: '2026-10-27T14:30:00Z' },
      features: { login: false },
    });
  });
});

describe('misconfiguration', () => {
  it.each([
    ['guests/create.ts', 'create-guest', 'IDENTITY_SALT_SECRET_ID'],
    ['widget-config.ts', 'widget-config', 'WEB_DEPLOYMENT_ID'],
  ])('%s answers 500 service-misconfigured without %s, and logs the variable at cold start', async (file, event, variable) => {
    // Prepare
    const handler = await coldStart(file, { [variable]: '' });

    // Act
    const result = await handler(await sample(event), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(500);
    expect(bodyOf(result)['type']).toContain('service-misconfigured');
    expect(output.logged('Invalid configuration at cold start')[0]?.['variables']).toContain(variable);
  });
});
