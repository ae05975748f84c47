/**
 * The guest and pre-chat functions as Lambda runs them (the whole middy stack),
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
  it('events/prechat-enrich.json enriches a known customer and routes by tier', async () => {
    // Prepare
    const handler = await coldStart('prechat.ts');

    // Act
    const result = await handler(await sample('prechat-enrich'), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({ status: 'enriched', enriched: true, routingQueue: 'q-platinum' });
    expect(queued()).toEqual([expect.objectContaining({ source: 'prechat', record: expect.objectContaining({ externalId: 'cust-1001' }) })]);
  });
});

describe('misconfiguration', () => {
  it.each([
    ['prechat.ts', 'prechat-enrich', 'ROUTING_QUEUES'],
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
