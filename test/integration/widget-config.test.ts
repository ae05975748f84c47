/**
 * `GET /widget/config` end to end against the local stack: the end-user JWT authorizer,
 * the web deployment check against the Genesys sandbox, what the Messenger receives, and
 * the prepared session its `gsRef` names in the stack's state table.
 * The refusal cases run first: once the deployment is found Active, the warm function
 * trusts that answer for WEB_DEPLOYMENT_CACHE_SECONDS (5 minutes deployed, 3 s in the test
 * stack; the last test shows it).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoStateTable, PreparedSessions } from '#lib/state';
import { messengerEnvironment } from '#lib/widget';
import { TEST_DEPLOYMENT_CACHE_SECONDS } from './global-setup.ts';
import { localDynamoDbClient } from '#local/dynamodb.ts';
import { LOCAL_DEFAULTS } from '#local/stack.ts';
import { mintLocalToken, type MintOptions } from '#local/tokens.ts';
import { addFaults, genesysState, resetSandboxes, stack } from '#test/support/stack.ts';

const DEPLOYMENT_ID = process.env['WEB_DEPLOYMENT_ID'] ?? (LOCAL_DEFAULTS['WEB_DEPLOYMENT_ID'] as string);
const ORG_ID = process.env['GENESYS_ORG_ID'] ?? (LOCAL_DEFAULTS['GENESYS_ORG_ID'] as string);
/** The local stack runs with serverless.yml's default region unless the environment sets one. */
const ENVIRONMENT = messengerEnvironment(process.env['GENESYS_REGION'] ?? 'mypurecloud.com');
let dynamo: ReturnType<typeof localDynamoDbClient>;
let sessions: PreparedSessions;

beforeAll(async () => {
  dynamo = localDynamoDbClient(stack().dynamodbEndpoint);
  sessions = new PreparedSessions(new DynamoStateTable({ tableName: stack().stateTableName, client: dynamo }));
  // An earlier test file may have left the warm function trusting an Active answer.
  await new Promise((resolve) => setTimeout(resolve, TEST_DEPLOYMENT_CACHE_SECONDS * 1000 + 500));
});
afterAll(() => {
  dynamo.destroy();
});

beforeEach(async () => {
  await resetSandboxes();
});

const userToken = (extra: Partial<MintOptions> = {}): Promise<string> =>
  mintLocalToken({
    sub: 'usr_992834',
    tier: 'gold',
    lastOrderDate: '2026-10-27T14:30:00Z',
    name: 'Jane Doe',
    email: 'jane.doe@example.com',
    phoneNumber: '+15551234567',
    audience: 'widget',
    ...extra,
  });

const widgetConfig = async (bearer: string | undefined) =>
  fetch(`${stack().apiUrl}/widget/config`, { headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` } });

const deploymentChecks = async (): Promise<number> =>
  (await genesysState())['requests'].filter((r: { operation: string }) => r.operation === 'getWebdeploymentsDeployment').length;

const setDeployment = async (change: { status?: string; deleted?: boolean }): Promise<void> => {
  const url = `${stack().genesysUrl}/__sandbox/deployments/${DEPLOYMENT_ID}`;
  const response = change.deleted
    ? await fetch(url, { method: 'DELETE' })
    : await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: change.status }) });
  expect(response.ok).toBe(true);
};

describe('GET /widget/config', () => {
  describe.each([
    ['paused (Inactive)', { status: 'Inactive' }, 'Inactive'],
    ['broken (Error)', { status: 'Error' }, 'Error'],
    ['being deleted', { status: 'Deleting' }, 'Deleting'],
    ['deleted', { deleted: true }, 'Missing'],
  ])('with the web deployment %s', (_case, change, reported) => {
    it('answers 503 with a problem naming the deployment and its state', async () => {
      // Prepare
      await setDeployment(change);

      // Act
      const response = await widgetConfig(await userToken());

      // Assess
      expect(response.status).toBe(503);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      const problem = (await response.json()) as Record<string, any>;
      expect(problem).toMatchObject({
        status: 503,
        type: expect.stringContaining('deployment-unavailable'),
        title: 'Messenger deployment unavailable',
        deploymentId: DEPLOYMENT_ID,
        deploymentStatus: reported,
      });
      expect(problem['detail']).toContain(DEPLOYMENT_ID);
    });
  });

  it.each([
    ['500 (after its retries)', 502, { status: 500 }],
    ['429 (after its retries)', 503, { status: 429, retryAfterSeconds: 1 }],
  ])('maps a deployment check failing with %s to %i', async (_case, status, fault) => {
    // Prepare
    await addFaults('genesys', [{ operation: 'getWebdeploymentsDeployment', ...fault }]);

    // Act
    const response = await widgetConfig(await userToken());

    // Assess
    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject({ status, operation: 'getWebDeployment' });
  });

  it.each([
    ['no token', async () => undefined],
    ['a malformed token', async () => 'not-a-jwt'],
    ['an expired token', async () => userToken({ issuedAt: Math.floor(Date.now() / 1000) - 7200, expiresInSeconds: 3600 })],
    ['a server-to-server token (machine audience)', async () => userToken({ audience: 'machine' })],
    ['a token from another issuer', async () => userToken({ issuer: 'https://elsewhere.invalid/' })],
  ])('refuses %s with 401 before the function runs', async (_case, token) => {
    // Act
    const response = await widgetConfig(await token());

    // Assess
    expect(response.status).toBe(401);
    expect(await deploymentChecks()).toBe(0);
  });

  it('refuses a token that names no user (no sub claim) with 401, without asking Genesys', async () => {
    // Act
    const response = await widgetConfig(await userToken({ sub: '' }));

    // Assess
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ status: 401, detail: expect.stringContaining('sub') });
    expect(await deploymentChecks()).toBe(0);
  });

  it('serves the configuration: allowlisted attributes only, the user\'s own details, login off, the Messenger environment, customAttributes with a stored gsRef', async () => {
    // Act
    const response = await widgetConfig(await userToken());

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('private, no-store');
    const body = (await response.json()) as Record<string, any>;
    const attributes = { userId: 'usr_992834', userTier: 'gold', lastOrderDate: '2026-10-27T14:30:00Z' };
    expect(body).toEqual({
      deploymentId: DEPLOYMENT_ID,
      organizationId: ORG_ID,
      environment: ENVIRONMENT,
      guestAttributes: attributes,
      guestDetails: { name: 'Jane Doe', email: 'jane.doe@example.com', phone: '+15551234567' },
      features: { login: false },
      customAttributes: { ...attributes, gsRef: expect.stringMatching(/^[A-Za-z0-9_-]{24}$/) },
    });
    expect(JSON.stringify(body['guestAttributes'])).not.toMatch(/jane|555/i);
    const stored = await sessions.byRef(body['customAttributes']['gsRef']);
    expect(stored?.attributes).toEqual(attributes);
    expect(JSON.stringify(stored)).not.toMatch(/Jane|jane\.doe|5551234567/);
  });

  it('hands the user the same gsRef on the next page view, and the first message carries it to the conversation', async () => {
    // Prepare
    const first = (await (await widgetConfig(await userToken())).json()) as { customAttributes: Record<string, string> };

    // Act
    const second = (await (await widgetConfig(await userToken({ tier: 'platinum' }))).json()) as { customAttributes: Record<string, string> };
    const started = await fetch(`${stack().genesysUrl}/__sandbox/messenger/conversations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ deploymentId: DEPLOYMENT_ID, customAttributes: second.customAttributes }),
    });

    // Assess
    expect(second.customAttributes['gsRef']).toBe(first.customAttributes['gsRef']);
    expect((await sessions.byRef(second.customAttributes['gsRef'] ?? ''))?.attributes).toMatchObject({ userTier: 'platinum' });
    expect(started.status).toBe(201);
    const { conversationId } = (await started.json()) as { conversationId: string };
    expect((await genesysState())['conversations'][conversationId].customer.attributes).toEqual(second.customAttributes);
  });

  it('serves a token with only a sub: no tier, no order date, no details', async () => {
    // Act
    const response = await widgetConfig(await mintLocalToken({ sub: 'usr_min', audience: 'widget' }));

    // Assess
    expect(await response.json()).toMatchObject({ guestAttributes: { userId: 'usr_min' }, guestDetails: {} });
  });

  it('never turns a sub that is an email address into a guest attribute', async () => {
    // Act
    const response = await widgetConfig(await userToken({ sub: 'jane.doe@example.com' }));

    // Assess
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, any>;
    expect(body['guestAttributes']).toEqual({ userTier: 'gold', lastOrderDate: '2026-10-27T14:30:00Z' });
  });

  it('trusts an Active deployment for the cache lifetime: a pause is not re-checked within it', async () => {
    // Prepare: the previous tests found the deployment Active.
    await setDeployment({ status: 'Inactive' });

    // Act
    const response = await widgetConfig(await userToken());

    // Assess
    expect(response.status).toBe(200);
    expect(await deploymentChecks()).toBe(0);
  });
});
