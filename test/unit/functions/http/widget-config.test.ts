/**
 * The widget configuration function as Lambda runs it (the whole middy stack), fed the
 * sample event of `events/` and events of its own, against the sandbox Genesys (version 2),
 * the local Secrets Manager and an embedded DynamoDB-compatible server holding the state
 * table, all on 127.0.0.1.
 */
import { readFile } from 'node:fs/promises';
import type { Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DynamoStateTable, PreparedSessions } from '#lib/state';
import { widgetSessionId } from '#lib/widget/config.ts';
import type { EmbeddedDynamoDb } from '#local/dynamodb.ts';
import { startGenesysSandboxV2, type GenesysSandboxV2 } from '#local/sandbox/genesys/index.ts';
import { startLocalSecretsManager, type LocalSecretsManager } from '#local/secrets-manager.ts';
import { captureOutput, freshHandler, lambdaContext, type CapturedOutput } from '#test/support/lambda.ts';
import { startStateTable } from '#test/support/state-table.ts';
import { httpEvent } from '#test/support/factories.ts';

const CLIENT = { clientId: 'unit-genesys', clientSecret: 'unit-genesys-secret' };
const DEPLOYMENT_ID = '6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b';
const TABLE = { tableName: 'unit-widget-state' };

type Handler = (event: unknown, context: Context) => Promise<{ statusCode: number; headers?: Record<string, string>; body?: string }>;

let secrets: LocalSecretsManager;
let genesys: GenesysSandboxV2;
let dynamodb: EmbeddedDynamoDb;
let sessions: PreparedSessions;
let output: CapturedOutput;

beforeAll(async () => {
  secrets = await startLocalSecretsManager({ 'test/genesys': CLIENT });
  genesys = await startGenesysSandboxV2({ clients: [CLIENT] });
  dynamodb = await startStateTable(TABLE.tableName);
  sessions = new PreparedSessions(new DynamoStateTable({ tableName: TABLE.tableName, client: dynamodb.client }));
});
afterAll(async () => {
  await Promise.all([secrets.close(), genesys.close(), dynamodb.close()]);
});
beforeEach(() => {
  genesys.reset();
  output = captureOutput();
});
afterEach(() => {
  output.restore();
  vi.unstubAllEnvs();
});

/** Loads the function fresh (a cold start) with the environment serverless.yml would give it. */
async function coldStart(overrides: Record<string, string> = {}): Promise<Handler> {
  const env: Record<string, string> = {
    GENESYS_REGION: 'mypurecloud.ie',
    GENESYS_API_BASE_URL: genesys.url,
    GENESYS_LOGIN_BASE_URL: genesys.url,
    GENESYS_CREDENTIALS_SECRET_ID: 'test/genesys',
    STATE_TABLE_NAME: TABLE.tableName,
    PREFILL_TTL_SECONDS: '1800',
    WEB_DEPLOYMENT_ID: DEPLOYMENT_ID,
    GENESYS_ORG_ID: 'org-1',
    GUEST_ATTRIBUTE_ALLOWLIST: 'userId,userTier,lastOrderDate',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
    ...overrides,
  };
  return freshHandler<Handler>(() => import('#functions/http/widget-config.ts'), env);
}

async function sample(): Promise<unknown> {
  return JSON.parse(await readFile(new URL('../../../../events/widget-config.json', import.meta.url), 'utf8')) as unknown;
}

const widgetEvent = (claims: Record<string, string>) => httpEvent({ method: 'GET', path: '/widget/config', claims });
const bodyOf = (result: { body?: string }): Record<string, unknown> => JSON.parse(result.body ?? '{}') as Record<string, unknown>;

describe('GET /widget/config', () => {
  it('events/widget-config.json serves the user in its claims, the Messenger environment of the region, and customAttributes with a stored gsRef', async () => {
    // Prepare
    const handler = await coldStart();

    // Act
    const result = await handler(await sample(), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(200);
    const body = bodyOf(result);
    const customAttributes = body['customAttributes'] as Record<string, string>;
    expect(body).toEqual({
      deploymentId: DEPLOYMENT_ID,
      organizationId: 'org-1',
      environment: 'prod-euw1',
      guestAttributes: { userId: 'usr_992834', userTier: 'gold', lastOrderDate: '2026-10-27T14:30:00Z' },
      guestDetails: { name: 'Jane Doe', email: 'jane.doe@example.com', phone: '+15551234567' },
      features: { login: false },
      customAttributes: { userId: 'usr_992834', userTier: 'gold', lastOrderDate: '2026-10-27T14:30:00Z', gsRef: expect.stringMatching(/^[A-Za-z0-9_-]{24}$/) },
    });
    expect(await sessions.byRef(customAttributes['gsRef'] ?? '')).toMatchObject({
      attributes: { userId: 'usr_992834', userTier: 'gold', lastOrderDate: '2026-10-27T14:30:00Z' },
    });
  });

  it('never stores or logs guestDetails', async () => {
    // Prepare
    const handler = await coldStart({ GUEST_ATTRIBUTE_ALLOWLIST: 'userId,userTier,lastOrderDate,email,name' });

    // Act
    const result = await handler(await sample(), lambdaContext());

    // Assess
    const stored = await sessions.byRef((bodyOf(result)['customAttributes'] as Record<string, string>)['gsRef'] ?? '');
    expect(JSON.stringify(stored)).not.toMatch(/Jane|jane\.doe|5551234567/);
    expect(output.text()).not.toMatch(/Jane Doe|jane\.doe|5551234567/);
  });

  it('hands one user the same gsRef on every page view, and the re-prepared attributes follow the newest token', async () => {
    // Prepare
    const handler = await coldStart();
    const first = await handler(widgetEvent({ sub: 'usr_7', tier: 'gold' }), lambdaContext());

    // Act
    const second = await handler(widgetEvent({ sub: 'usr_7', tier: 'platinum' }), lambdaContext());
    const other = await handler(widgetEvent({ sub: 'usr_8', tier: 'gold' }), lambdaContext());

    // Assess
    const ref = (result: { body?: string }) => (bodyOf(result)['customAttributes'] as Record<string, string>)['gsRef'] ?? '';
    expect(ref(second)).toBe(ref(first));
    expect(ref(other)).not.toBe(ref(first));
    expect((await sessions.byRef(ref(second)))?.attributes).toEqual({ userId: 'usr_7', userTier: 'platinum' });
  });

  it.each([
    ['mypurecloud.com', 'prod'],
    ['usw2.pure.cloud', 'prod-usw2'],
    ['mypurecloud.com.au', 'prod-apse2'],
  ])('names the environment of GENESYS_REGION=%s %s', async (region, environment) => {
    const handler = await coldStart({ GENESYS_REGION: region });
    const result = await handler(widgetEvent({ sub: 'usr_1' }), lambdaContext());
    expect(bodyOf(result)['environment']).toBe(environment);
  });

  it('answers 503 and stores nothing while the web deployment is not Active', async () => {
    // Prepare
    const handler = await coldStart();
    await fetch(`${genesys.url}/__sandbox/deployments/${DEPLOYMENT_ID}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'Inactive' }),
    });

    // Act
    const result = await handler(widgetEvent({ sub: 'usr_inactive', tier: 'gold' }), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(503);
    expect(bodyOf(result)['type']).toContain('deployment-unavailable');
    expect(await sessions.get(widgetSessionId(DEPLOYMENT_ID, 'usr_inactive'))).toBeUndefined();
  });
});

describe('misconfiguration', () => {
  it.each([
    ['WEB_DEPLOYMENT_ID', { WEB_DEPLOYMENT_ID: '' }],
    ['GENESYS_REGION', { GENESYS_REGION: 'example.com' }],
    ['STATE_TABLE_NAME', { STATE_TABLE_NAME: '' }],
  ])('answers 500 service-misconfigured without a valid %s, and logs the variable at cold start', async (variable, overrides) => {
    // Prepare
    const handler = await coldStart(overrides);

    // Act
    const result = await handler(await sample(), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(500);
    expect(bodyOf(result)['type']).toContain('service-misconfigured');
    expect(output.logged('Invalid configuration at cold start')[0]?.['variables']).toContain(variable);
  });
});
