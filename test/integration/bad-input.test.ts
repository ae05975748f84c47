/**
 * Bad input over HTTP, through serverless-offline and the JWT authorizers of the shared
 * local stack: a sample of the same adversarial requests the in-process property tests
 * send (test/unit/fuzz), the size limit per route, and the webhook signature refusals.
 * The worker is paused, so the CRM sync queue shows exactly what each request enqueued.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPayload } from '#lib/webhook';
import { mintLocalToken } from '#local/tokens.ts';
import { FUZZ_SEED, fuzzRequest, refusedBody, type FreeTextTarget, type FuzzRequest } from '#test/support/arbitraries.ts';
import { machineToken, purge, queueDepth, setWorkerPaused, stack, until } from '#test/support/stack.ts';

/** Requests per route over HTTP (the 1,000-per-route runs are in process, in test/unit/fuzz). */
const HTTP_CASES_PER_ROUTE = 100;
/** Requests per route carrying what no hop can carry (300 per route run in process). */
const HTTP_REFUSED_CASES_PER_ROUTE = 40;
const REQUEST_TIMEOUT_MS = 10_000;
const KiB = 1024;

interface HttpRoute {
  name: string;
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  param?: string;
  token: 'machine' | 'widget' | 'none';
  template: () => Record<string, unknown>;
  success: readonly number[];
  limit: number;
  baseHeaders?: Record<string, string>;
  signed?: boolean;
  /** Where the route takes free text: fuzzed with what no hop can carry. */
  freeText?: readonly FreeTextTarget[];
}

const SESSION_ID = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
const knownGuests: string[] = [];
/** The conversation pre-chat enriches: replaced in beforeAll by one the Messenger simulator starts. */
const prechatConversation = { conversationId: '5c9e2f4a-1b3d-4e6f-8a7b-9c0d1e2f3a4b', participantId: '7d1f3a5b-2c4e-4f60-9b8a-0d1e2f3a4b5c' };

const ROUTES: HttpRoute[] = [
  { name: 'GET /health', method: 'GET', path: '/health', token: 'none', template: () => ({}), success: [200], limit: 256 * KiB },
  {
    name: 'POST /sessions/{sessionId}/prefill',
    method: 'POST',
    path: '/sessions/{sessionId}/prefill',
    param: 'sessionId',
    token: 'machine',
    template: () => ({ attributes: { first_name: 'Jane', account_tier: 'enterprise' }, consent: { consent_terms_accepted: 'true' } }),
    success: [200],
    limit: 256 * KiB,
    freeText: [
      { path: ['attributes'], keys: true },
      { path: ['consent'], keys: true },
    ],
  },
  {
    name: 'POST /webhooks/genesys',
    method: 'POST',
    path: '/webhooks/genesys',
    token: 'none',
    template: () => ({ eventId: randomUUID(), event: 'guest.session.attributes.updated', sessionId: SESSION_ID, attributes: { tier: 'gold' }, timestamp: new Date().toISOString() }),
    success: [202],
    limit: 64 * KiB,
    signed: true,
    freeText: [{ path: ['attributes'], keys: true }],
  },
  {
    name: 'POST /guests',
    method: 'POST',
    path: '/guests',
    token: 'machine',
    template: () => ({ email: 'jane.doe@example.com', consent: { marketing: false, dataProcessing: true }, attributes: { source: 'website' } }),
    success: [201],
    limit: 32 * KiB,
    freeText: [
      { path: ['attributes'], keys: true },
      { path: ['identityAttributes', 'deviceFingerprint'], keys: false },
    ],
  },
  { name: 'GET /guests/{guestId}', method: 'GET', path: '/guests/{guestId}', param: 'guestId', token: 'machine', template: () => ({}), success: [200], limit: 256 * KiB },
  {
    name: 'PATCH /guests/{guestId}',
    method: 'PATCH',
    path: '/guests/{guestId}',
    param: 'guestId',
    token: 'machine',
    template: () => ({ consent: { marketing: true }, attributes: { loyaltyTier: 'platinum' } }),
    success: [200],
    limit: 32 * KiB,
    baseHeaders: { 'if-match': '"1"' },
    freeText: [
      { path: ['attributes'], keys: true },
      { path: ['identityAttributes', 'deviceFingerprint'], keys: false },
    ],
  },
  { name: 'GET /guests/{guestId}/metrics', method: 'GET', path: '/guests/{guestId}/metrics', param: 'guestId', token: 'machine', template: () => ({}), success: [200], limit: 256 * KiB },
  {
    name: 'POST /prechat/enrich',
    method: 'POST',
    path: '/prechat/enrich',
    token: 'machine',
    template: () => ({ ...prechatConversation, surveyAnswers: { email: 'john.doe@example.com', subject: 'Billing' } }),
    success: [200],
    limit: 16 * KiB,
    freeText: [{ path: ['surveyAnswers', 'subject'], keys: false }],
  },
  { name: 'GET /widget/config', method: 'GET', path: '/widget/config', token: 'widget', template: () => ({}), success: [200], limit: 256 * KiB },
];

/** Headers fetch manages itself or that would desynchronise the connection. */
const TRANSPORT_HEADERS = new Set(['content-length', 'host', 'connection', 'transfer-encoding', 'expect', 'keep-alive', 'upgrade', 'te', 'trailer']);

let secretsManager: SecretsManagerClient;
let originalSecret: string;
const tokens: Record<'machine' | 'widget', string> = { machine: '', widget: '' };

const readSecret = async (): Promise<string> => {
  const { SecretString } = await secretsManager.send(new GetSecretValueCommand({ SecretId: stack().secretIds.webhook }));
  return (JSON.parse(SecretString ?? '{}') as { signingSecret: string }).signingSecret;
};
const storeSecret = (signingSecret: string) =>
  secretsManager.send(new PutSecretValueCommand({ SecretId: stack().secretIds.webhook, SecretString: JSON.stringify({ signingSecret }) }));

/** A header value fetch can send: anything outside visible ASCII is percent-encoded. */
const sendable = (value: string): string => value.replace(/[^\x20-\x7e]/g, (c) => encodeURIComponent(c)).trim();

/** Sends one generated request to the stack as a client would. */
async function send(route: HttpRoute, request: FuzzRequest, sign: boolean, secret: string): Promise<Response> {
  const bytes = request.body === undefined ? undefined : Buffer.from(request.body, request.isBase64Encoded ? 'base64' : 'utf8');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...route.baseHeaders, ...request.headers })) {
    if (value !== undefined && !TRANSPORT_HEADERS.has(name.toLowerCase())) headers[name.toLowerCase()] = sendable(value);
  }
  if (route.token !== 'none') headers['authorization'] = `Bearer ${tokens[route.token]}`;
  if (route.signed && sign && bytes) headers['x-hub-signature-256'] = signPayload(secret, bytes);
  const path = route.param ? route.path.replace(`{${route.param}}`, encodeURIComponent(request.pathId ?? '')) : route.path;
  return fetch(`${stack().apiUrl}${path}`, {
    method: route.method,
    headers,
    ...(route.method === 'GET' || bytes === undefined ? {} : { body: bytes }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
}

/**
 * The answer invariant over HTTP. Every function answer carries `x-request-id` (the shared
 * stack echoes it on success and failure): it must be a documented success or a 4xx problem
 * document. An answer without it came from the HTTP server in front of the functions (a
 * malformed content type, an oversized header section, a path no route matches, as API
 * Gateway also refuses itself): it must still be a 4xx. Returns whether a function answered.
 */
async function expectDocumented(route: HttpRoute, response: Response): Promise<boolean> {
  const text = await response.text();
  expect(response.status, `${route.name} answered ${response.status}: ${text.slice(0, 300)}`).toBeLessThan(500);
  const fromFunction = response.headers.has('x-request-id');
  if (route.success.includes(response.status)) {
    expect(fromFunction, `${route.name}: a success that no function produced`).toBe(true);
    return true;
  }
  expect(response.status).toBeGreaterThanOrEqual(400);
  if (!fromFunction) return false;
  expect(response.headers.get('content-type'), `${route.name}: ${response.status} ${text.slice(0, 300)}`).toBe('application/problem+json');
  expect(JSON.parse(text)).toMatchObject({ type: expect.any(String), title: expect.any(String), status: response.status, detail: expect.any(String) });
  return true;
}

beforeAll(async () => {
  secretsManager = new SecretsManagerClient({ region: 'us-east-1', endpoint: stack().secretsEndpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  originalSecret = await readSecret();
  tokens.machine = await machineToken();
  tokens.widget = await mintLocalToken({ sub: 'usr_fuzz', tier: 'gold', name: 'Jane Doe', audience: 'widget' });
  // A pause only stops the next batch; wait out a batch the event source may be gathering (5 s window).
  await setWorkerPaused(true);
  await new Promise((done) => setTimeout(done, 6_500));
  for (let index = 0; index < 2; index += 1) {
    const created = await fetch(`${stack().apiUrl}/guests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.machine}`, 'content-type': 'application/json' },
      body: JSON.stringify({ consent: { marketing: false, dataProcessing: true } }),
    });
    expect(created.status).toBe(201);
    knownGuests.push(((await created.json()) as { id: string }).id);
  }
  const started = await fetch(`${stack().genesysUrl}/__sandbox/messenger/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const conversation = (await started.json()) as { conversationId: string; customerParticipantId: string };
  Object.assign(prechatConversation, { conversationId: conversation.conversationId, participantId: conversation.customerParticipantId });
  await purge('queue');
});
afterAll(async () => {
  if ((await readSecret()) !== originalSecret) await storeSecret(originalSecret);
  await purge('queue');
  await setWorkerPaused(false);
  secretsManager.destroy();
});

describe.each(ROUTES.map((route) => [route.name, route] as const))('%s over HTTP', (_name, route) => {
  it(`answers ${HTTP_CASES_PER_ROUTE} adversarial requests with a documented success or a 4xx, and a refusal enqueues nothing`, async () => {
    // Prepare
    await purge('queue');
    const secret = await readSecret();
    let depth = 0;
    let functionAnswers = 0;
    const validId = knownGuests.length > 0 && route.param === 'guestId' ? fc.oneof(fc.constantFrom(...knownGuests), fc.uuid()) : fc.constant(SESSION_ID);
    const requests = fc.tuple(fuzzRequest({ template: route.template(), validId }), fc.boolean());

    await fc.assert(
      fc.asyncProperty(requests, async ([request, sign]) => {
        // Act
        const response = await send(route, request, sign, secret);

        // Assess
        if (await expectDocumented(route, response)) functionAnswers += 1;
        const depthAfter = await queueDepth('queue');
        if (response.status >= 400) expect(depthAfter, `${route.name}: a ${response.status} enqueued a job`).toBe(depth);
        depth = depthAfter;
      }),
      { numRuns: HTTP_CASES_PER_ROUTE, seed: FUZZ_SEED, timeout: REQUEST_TIMEOUT_MS + 2_000, endOnFailure: true },
    );

    // Assess: most requests reached the function (the sample is not all refused in front of it),
    // and the stack is still healthy afterwards.
    expect(functionAnswers).toBeGreaterThanOrEqual(HTTP_CASES_PER_ROUTE / 2);
    expect((await fetch(`${stack().apiUrl}/health`)).status).toBe(200);
  }, 120_000);
});

describe.each(ROUTES.filter((route) => route.freeText).map((route) => [route.name, route] as const))('%s over HTTP', (_name, route) => {
  it(`refuses ${HTTP_REFUSED_CASES_PER_ROUTE} requests carrying what no hop can store (a refused character, an identifier key, keys equal but for case) with 400, enqueueing nothing`, async () => {
    // Prepare
    await purge('queue');
    const secret = await readSecret();
    const pathId = route.param === 'guestId' ? (knownGuests[0] as string) : SESSION_ID;

    await fc.assert(
      fc.asyncProperty(refusedBody(route.template, route.freeText ?? []), async (refused) => {
        // Act
        const response = await send(route, { body: refused.body, isBase64Encoded: false, headers: { 'content-type': 'application/json' }, pathId }, true, secret);

        // Assess
        const text = await response.text();
        expect(response.status, `${route.name} (${refused.kind}): ${text.slice(0, 300)}`).toBe(400);
        expect(response.headers.get('content-type')).toBe('application/problem+json');
        const problem = JSON.parse(text) as { errors?: Array<{ path: string }> };
        expect(problem.errors?.some((error) => error.path.startsWith(refused.at)), text).toBe(true);
        if (refused.secretKey) expect(text.toLowerCase()).not.toContain(refused.secretKey.toLowerCase());
        expect(await queueDepth('queue'), `${route.name}: a refusal enqueued a job`).toBe(0);
      }),
      { numRuns: HTTP_REFUSED_CASES_PER_ROUTE, seed: FUZZ_SEED, timeout: REQUEST_TIMEOUT_MS + 2_000, endOnFailure: true },
    );
  }, 120_000);
});

describe.each(ROUTES.filter((route) => route.method !== 'GET').map((route) => [route.name, route] as const))('%s over HTTP', (_name, route) => {
  it(`refuses a 300 KiB non-JSON body with 413 before parsing it (limit ${route.limit} bytes)`, async () => {
    // Prepare
    await purge('queue');
    const body = '<'.repeat(300 * KiB);

    // Act
    const response = await send(route, { body, isBase64Encoded: false, headers: { 'content-type': 'application/json' }, pathId: knownGuests[0] ?? SESSION_ID }, true, await readSecret());

    // Assess
    expect(response.status).toBe(413);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(await response.json()).toMatchObject({ status: 413, type: expect.stringContaining('payload-too-large') });
    expect(await queueDepth('queue')).toBe(0);
  });
});

describe('POST /webhooks/genesys over HTTP refuses', () => {
  const event = (offsetMs = -1_000, kind = 'guest.session.attributes.updated'): string =>
    JSON.stringify({ eventId: randomUUID(), event: kind, sessionId: SESSION_ID, attributes: { tier: 'gold' }, timestamp: new Date(Date.now() + offsetMs).toISOString() });
  const digest = (secret: string, text: string): Buffer => createHmac('sha256', secret).update(text).digest();
  const deliver = (text: string, headers: Record<string, string>) =>
    fetch(`${stack().apiUrl}/webhooks/genesys`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: text, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });

  describe.each<[string, (secret: string, text: string) => Record<string, string>, number, string]>([
    ['a digest of the wrong length', (secret, text) => ({ 'x-hub-signature-256': `sha256=${digest(secret, text).subarray(0, 16).toString('base64')}` }), 401, 'unauthorized'],
    ['a hex digest', (secret, text) => ({ 'x-hub-signature-256': `sha256=${digest(secret, text).toString('hex')}` }), 401, 'unauthorized'],
    ['base64url of a forged digest', (_secret, text) => ({ 'x-hub-signature-256': `sha256=${digest('forged', text).toString('base64url')}` }), 401, 'unauthorized'],
    ['unpadded base64 of a forged digest', (_secret, text) => ({ 'x-hub-signature-256': `sha256=${digest('forged', text).toString('base64').replace(/=+$/, '')}` }), 401, 'unauthorized'],
    ['no sha256= prefix', (secret, text) => ({ 'x-hub-signature-256': digest(secret, text).toString('base64') }), 401, 'unauthorized'],
    ['a forged signature under an upper-case header name', (_secret, text) => ({ 'X-HUB-SIGNATURE-256': signPayload('forged', text) }), 401, 'unauthorized'],
    ['a signature made with an empty key', (_secret, text) => ({ 'x-hub-signature-256': signPayload('', text) }), 401, 'unauthorized'],
    ['no signature at all', () => ({}), 401, 'unauthorized'],
  ])('%s', (_case, headers, status, type) => {
    it(`with ${status} and enqueues nothing`, async () => {
      // Prepare
      await purge('queue');
      const text = event();

      // Act
      const response = await deliver(text, headers(await readSecret(), text));

      // Assess
      expect(response.status).toBe(status);
      expect(await response.json()).toMatchObject({ status, type: expect.stringContaining(type) });
      expect(await queueDepth('queue')).toBe(0);
    });
  });

  describe.each([
    ['6 minutes in the past', -6 * 60_000],
    ['6 minutes in the future', 6 * 60_000],
  ])('a correctly signed replay %s', (_case, offsetMs) => {
    it('with 400 stale-event and enqueues nothing', async () => {
      // Prepare
      await purge('queue');
      const text = event(offsetMs);

      // Act
      const response = await deliver(text, { 'x-hub-signature-256': signPayload(await readSecret(), text) });

      // Assess
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ status: 400, type: expect.stringContaining('stale-event') });
      expect(await queueDepth('queue')).toBe(0);
    });
  });

  it('a signature from a secret two rotations old with 401, and enqueues nothing', async () => {
    // Prepare: rotate twice; an ignored event type (enqueues nothing) probes until the function sees the rotation.
    const twoOld = await readSecret();
    const [middle, newest] = [`rotated-${randomUUID()}`, `rotated-${randomUUID()}`];
    await storeSecret(middle);
    await storeSecret(newest);
    await until(async () => {
      const probe = event(-1_000, 'guest.session.other');
      return (await deliver(probe, { 'x-hub-signature-256': signPayload(newest, probe) })).status === 202;
    }, 15_000, 'the newest secret accepted');
    await purge('queue');
    const text = event();

    // Act
    const response = await deliver(text, { 'x-hub-signature-256': signPayload(twoOld, text) });

    // Assess
    expect(response.status).toBe(401);
    expect(await queueDepth('queue')).toBe(0);

    // Leave the stack as found: the original secret current and seen by the warm function.
    await storeSecret(twoOld);
    await until(async () => {
      const probe = event(-1_000, 'guest.session.other');
      return (await deliver(probe, { 'x-hub-signature-256': signPayload(twoOld, probe) })).status === 202;
    }, 15_000, 'the original secret accepted again');
  }, 60_000);
});
