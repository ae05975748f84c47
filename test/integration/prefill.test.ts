/**
 * POST /sessions/{sessionId}/prefill against the local stack, as a server-to-server caller
 * and a guest's page see it: the machine JWT authorizer, the prepared session in the
 * stack's state table, the sandbox Genesys (its Messenger simulator plays the guest's
 * first message; faults injected on the participant PATCH), and the CRM sync queue (the
 * worker paused, so what was queued can be read). The link between a session and its
 * conversation is recorded through `PreparedSessions` against the stack's DynamoDB, as the
 * events function records it.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoStateTable, PreparedSessions } from '#lib/state';
import { localDynamoDbClient } from '#local/dynamodb.ts';
import {
  addFaults,
  genesysState,
  machineToken,
  peekMessages,
  purge,
  queueDepth,
  resetSandboxes,
  setWorkerPaused,
  stack,
  startLinkedConversation,
} from '#test/support/stack.ts';

interface LoggedRequest {
  at: string;
  operation: string;
  path: string;
  status: number;
}

const PATCH = 'patchConversationParticipantAttributes';
let token: string;
let sessions: PreparedSessions;
let dynamo: ReturnType<typeof localDynamoDbClient>;

/** `bearer`: the test's write token by default, `null` for none. */
const prefill = (sessionId: string, body: unknown, bearer: string | null = token) =>
  fetch(`${stack().apiUrl}/sessions/${sessionId}/prefill`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer === null ? {} : { authorization: `Bearer ${bearer}` }) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

/** Every Genesys API request except the token grant. */
const apiRequests = async (): Promise<LoggedRequest[]> =>
  ((await genesysState()).requests as LoggedRequest[]).filter((r) => r.path.startsWith('/api/'));

/** The participant PATCHes Genesys received for one conversation. */
const patchesOf = async (conversationId: string): Promise<LoggedRequest[]> =>
  (await apiRequests()).filter((r) => r.operation === PATCH && r.path.includes(conversationId));

const tokensIssued = async (): Promise<number> => (await genesysState()).tokensIssued as number;

/** The guest participant's attributes as Genesys holds them. */
const participantAttributes = async (conversationId: string): Promise<Record<string, string> | undefined> =>
  ((await genesysState()).conversations[conversationId] as { customer: { attributes: Record<string, string> } } | undefined)?.customer.attributes;

/** Attributes whose processed `{attributes}` is exactly `bytes` bytes. */
const attributesOfBytes = (bytes: number) => ({ note: 'x'.repeat(bytes - Buffer.byteLength(JSON.stringify({ attributes: { note: '' } }))) });

/** The guest's first message through the Messenger simulator, carrying what the page passed to `Database.set`. */
async function firstMessage(customAttributes: Record<string, string>): Promise<{ conversationId: string; customerParticipantId: string }> {
  const response = await fetch(`${stack().genesysUrl}/__sandbox/messenger/conversations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customAttributes }),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as { conversationId: string; customerParticipantId: string };
}

/** Prefills a session, starts its conversation with the answer's map, and links the two as the events function will. */
async function linkedSession(sessionId: string): Promise<{ conversationId: string; gsRef: string }> {
  const response = await prefill(sessionId, { attributes: { tier: 'silver' } });
  expect(response.status).toBe(200);
  const { customAttributes } = (await response.json()) as { customAttributes: Record<string, string> };
  const { conversationId } = await startLinkedConversation(sessionId, customAttributes);
  await purge('queue');
  return { conversationId, gsRef: customAttributes['gsRef'] ?? '' };
}

/**
 * Pauses the worker and waits out a batch it may be gathering: a pause only stops the next
 * batch, and the event source collects for up to its 5 s batching window.
 */
async function pauseWorker(): Promise<void> {
  await setWorkerPaused(true);
  await new Promise((done) => setTimeout(done, 6_500));
}

beforeAll(async () => {
  token = await machineToken('guest-sync/write');
  dynamo = localDynamoDbClient(stack().dynamodbEndpoint);
  sessions = new PreparedSessions(new DynamoStateTable({ tableName: stack().stateTableName, client: dynamo }));
  await pauseWorker();
});
afterAll(async () => {
  await purge('queue');
  await setWorkerPaused(false);
  dynamo.destroy();
});
beforeEach(async () => {
  await resetSandboxes();
  // The reset revokes every Genesys token: one PATCH through a linked session lets the
  // function refresh its cached token now, so each test sees only its own requests.
  const warmUp = randomUUID();
  await linkedSession(warmUp);
  expect((await prefill(warmUp, { attributes: { warmup: true } })).status).toBe(200);
  await purge('queue');
});

describe('POST /sessions/{sessionId}/prefill', () => {
  it('prepares a session as the README shows: Messenger-ready customAttributes, no Genesys call before the first message, one job without plaintext identifiers', async () => {
    // Prepare
    const sessionId = randomUUID();
    const before = (await apiRequests()).length;

    // Act
    const response = await prefill(sessionId, {
      attributes: {
        first_name: 'Jane',
        email: 'jane.doe@enterprise.com',
        phone: '+1 (555) 123-4567',
        note: 'SSN on file: 123-45-6789',
        zip: '02134',
        visits: '3',
      },
      consent: { marketing_opt_in: 'false' },
    });

    // Assess
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    const customAttributes = body['customAttributes'] as Record<string, string>;
    expect(body).toEqual({
      sessionId,
      attributeCount: 7,
      byteSize: expect.any(Number),
      maskedKeys: ['email', 'phone', 'note'],
      syncJobId: expect.stringMatching(/^prefill-[0-9a-f]{32}$/),
      applied: 'pending',
      sync: 'queued',
      customAttributes: {
        first_name: 'Jane',
        email: '*'.repeat(23),
        phone: '***-***-****',
        note: 'SSN on file: ***-**-****',
        zip: '02134',
        visits: '3',
        marketing_opt_in: 'false',
        gsRef: expect.stringMatching(/^[A-Za-z0-9_-]{24}$/),
      },
    });
    expect((await apiRequests()).slice(before)).toEqual([]);
    const { gsRef, ...prepared } = customAttributes;
    expect(await sessions.byRef(gsRef ?? '')).toMatchObject({ sessionId, attributes: prepared });
    const messages = await peekMessages('queue');
    expect(messages).toHaveLength(1);
    const [message] = messages;
    const everything = JSON.stringify({ body: message?.Body, attributes: message?.MessageAttributes });
    expect(everything).not.toMatch(/jane\.doe|enterprise\.com|555\D*123\D*4567|123-45-6789/i);
    expect(JSON.parse(message?.Body ?? '{}')).toMatchObject({
      v: 1,
      kind: 'crm.upsert',
      source: 'prefill',
      jobId: body['syncJobId'],
      record: {
        externalId: sessionId,
        emailHash: expect.stringMatching(/^[0-9a-f]{64}$/),
        phoneHash: expect.stringMatching(/^[0-9a-f]{64}$/),
        consentFlags: { marketing_opt_in: false },
        attributes: { first_name: 'Jane', note: 'SSN on file: ***-**-****', zip: '02134', visits: 3, marketing_opt_in: false },
      },
    });
    expect(message?.MessageAttributes?.['jobId']?.StringValue).toBe(body['syncJobId']);
  });

  it('gives the conversation the prepared attributes when the page hands customAttributes to the first message', async () => {
    // Prepare
    const sessionId = randomUUID();
    const answer = (await (await prefill(sessionId, { attributes: { tier: 'gold', vip: true, email: 'jane@example.com' } })).json()) as {
      customAttributes: Record<string, string>;
    };

    // Act
    const started = await firstMessage(answer.customAttributes);

    // Assess
    expect(await participantAttributes(started.conversationId)).toEqual({
      tier: 'gold',
      vip: 'true',
      email: '*'.repeat(16),
      gsRef: answer.customAttributes['gsRef'],
    });
    expect((await genesysState()).piiFindings).toEqual([]);
  });

  it('PATCHes the guest participant at once once the session is linked to its conversation, and queues the job', async () => {
    // Prepare
    const sessionId = randomUUID();
    const { conversationId, gsRef } = await linkedSession(sessionId);

    // Act
    const response = await prefill(sessionId, { attributes: { tier: 'platinum', visits: 4 } });

    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ applied: 'conversation', customAttributes: { tier: 'platinum', visits: '4', gsRef } });
    expect((await patchesOf(conversationId)).map((r) => r.status)).toEqual([202]);
    expect(await participantAttributes(conversationId)).toEqual({ tier: 'platinum', visits: '4', gsRef });
    expect(await queueDepth('queue')).toBe(1);
  });

  it('stops PATCHing once the conversation has ended', async () => {
    // Prepare
    const sessionId = randomUUID();
    const { conversationId } = await linkedSession(sessionId);
    await fetch(`${stack().genesysUrl}/__sandbox/messenger/conversations/${conversationId}/end`, { method: 'POST' });
    await sessions.end(conversationId, new Date().toISOString());

    // Act
    const response = await prefill(sessionId, { attributes: { tier: 'platinum' } });

    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ applied: 'pending' });
    expect(await patchesOf(conversationId)).toEqual([]);
  });

  it('gives the same prefill sent twice the same sync job id and the same reference', async () => {
    // Prepare
    const sessionId = randomUUID();
    const payload = { attributes: { tier: 'gold' } };

    // Act
    const first = (await (await prefill(sessionId, payload)).json()) as { syncJobId: string; customAttributes: Record<string, string> };
    const second = (await (await prefill(sessionId, payload)).json()) as { syncJobId: string; customAttributes: Record<string, string> };

    // Assess
    expect(second.syncJobId).toBe(first.syncJobId);
    expect(second.customAttributes['gsRef']).toBe(first.customAttributes['gsRef']);
  });

  it('succeeds in three PATCHes when Genesys answers 429 twice, waiting as Retry-After asks', async () => {
    // Prepare
    const sessionId = randomUUID();
    const { conversationId } = await linkedSession(sessionId);
    await addFaults('genesys', [{ operation: PATCH, status: 429, retryAfterSeconds: 1, times: 2 }]);

    // Act
    const response = await prefill(sessionId, { attributes: { tier: 'gold' } });

    // Assess
    expect(response.status).toBe(200);
    const patches = await patchesOf(conversationId);
    expect(patches.map((r) => r.status)).toEqual([429, 429, 202]);
    // Each retry came after the second Genesys asked for (a lower bound on a wait, not a speed check).
    const gaps = patches.slice(1).map((r, i) => Date.parse(r.at) - Date.parse(patches[i]?.at ?? ''));
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(950);
    expect(await queueDepth('queue')).toBe(1);
  });

  it('refreshes an expired token once and PATCHes', async () => {
    // Prepare
    const sessionId = randomUUID();
    const { conversationId } = await linkedSession(sessionId);
    await fetch(`${stack().genesysUrl}/__sandbox/tokens/expire`, { method: 'POST' });
    const issuedBefore = await tokensIssued();

    // Act
    const response = await prefill(sessionId, { attributes: { tier: 'gold' } });

    // Assess
    expect(response.status).toBe(200);
    expect((await patchesOf(conversationId)).map((r) => r.status)).toEqual([401, 202]);
    expect(await tokensIssued()).toBe(issuedBefore + 1);
  });

  it('reports the size in a 413 for 10,241 bytes, storing nothing, and accepts exactly 10,240', async () => {
    // Prepare
    const tooBig = randomUUID();
    const atLimit = randomUUID();

    // Act
    const refused = await prefill(tooBig, { attributes: attributesOfBytes(10_241) });
    const accepted = await prefill(atLimit, { attributes: attributesOfBytes(10_240) });

    // Assess
    expect(refused.status).toBe(413);
    expect(await refused.json()).toMatchObject({ status: 413, detail: expect.stringContaining('10241 bytes') });
    expect(await sessions.get(tooBig)).toBeUndefined();
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toMatchObject({ byteSize: 10_240 });
    expect(await queueDepth('queue')).toBe(1);
  });

  describe.each([
    ['404 (conversation gone)', [{ operation: PATCH, status: 404 }], 404, [404]],
    ['429 three times', [{ operation: PATCH, status: 429, retryAfterSeconds: 1, times: 3 }], 503, [429, 429, 429]],
    ['401 even after a token refresh', [{ operation: PATCH, status: 401, times: 2 }], 502, [401, 401]],
    ['403', [{ operation: PATCH, status: 403 }], 502, [403]],
    ['500 three times', [{ operation: PATCH, status: 500, times: 3 }], 502, [500, 500, 500]],
  ])('when the PATCH meets Genesys %s', (_case, faults, status, upstream) => {
    it(`answers ${status} and leaves the queue empty`, async () => {
      // Prepare
      const sessionId = randomUUID();
      const { conversationId } = await linkedSession(sessionId);
      await addFaults('genesys', faults);

      // Act
      const response = await prefill(sessionId, { attributes: { tier: 'gold', email: 'jane@example.com' } });

      // Assess
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      const problem = (await response.json()) as Record<string, unknown>;
      expect(problem).toMatchObject({ status, operation: 'patchParticipantAttributes' });
      expect(JSON.stringify(problem)).not.toContain('jane@example.com');
      if (status === 503) expect(response.headers.get('retry-after')).toBe('1');
      expect((await patchesOf(conversationId)).map((r) => r.status)).toEqual(upstream);
      expect(await participantAttributes(conversationId)).toMatchObject({ tier: 'silver' });
      expect(await queueDepth('queue')).toBe(0);
    });
  });

  describe.each([
    ['a session id that is not a UUID', 'not-a-session', { attributes: { a: 'b' } }, 400],
    ['a nested attribute', randomUUID(), { attributes: { address: { city: 'Paris' } } }, 400],
    ['null', randomUUID(), { attributes: { middle_name: null } }, 400],
    ['101 keys', randomUUID(), { attributes: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, i])) }, 400],
    ['malformed JSON', randomUUID(), '{"attributes": ', 400],
  ])('refuses %s', (_case, sessionId, body, status) => {
    it(`with ${status}, stores and calls nothing and leaves the queue empty`, async () => {
      // Prepare
      const before = (await apiRequests()).length;

      // Act
      const response = await prefill(sessionId, body);

      // Assess
      expect(response.status).toBe(status);
      expect(await response.json()).toMatchObject({ status, errors: expect.any(Array) });
      expect(await sessions.get(sessionId)).toBeUndefined();
      expect((await apiRequests()).slice(before)).toEqual([]);
      expect(await queueDepth('queue')).toBe(0);
    });
  });

  describe.each([
    ['no token', async () => null, 401],
    ['a token with only the read scope', () => machineToken('guest-sync/read'), 403],
  ])('with %s', (_case, bearer, status) => {
    it(`is refused with ${status} before the function runs`, async () => {
      // Prepare
      const sessionId = randomUUID();

      // Act
      const response = await prefill(sessionId, { attributes: { tier: 'gold' } }, await bearer());

      // Assess
      expect(response.status).toBe(status);
      expect(await sessions.get(sessionId)).toBeUndefined();
    });
  });
});
