/**
 * POST /sessions/{sessionId}/prefill against the local stack, as a server-to-server caller
 * sees it: the machine JWT authorizer, the sandbox Genesys (faults injected), and the CRM
 * sync queue (the worker paused, so what was queued can be read).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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
} from '../support/stack.ts';

interface LoggedRequest {
  at: string;
  operation: string;
  path: string;
  status: number;
}

let token: string;

/** `bearer`: the test's write token by default, `null` for none. */
const prefill = (sessionId: string, body: unknown, bearer: string | null = token) =>
  fetch(`${stack().apiUrl}/sessions/${sessionId}/prefill`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer === null ? {} : { authorization: `Bearer ${bearer}` }) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

/** Requests Genesys received for one session's attributes. */
const putsFor = async (sessionId: string): Promise<LoggedRequest[]> =>
  ((await genesysState()).requests as LoggedRequest[]).filter((r) => r.operation === 'putSessionAttributes' && r.path.includes(sessionId));

const tokensIssued = async (): Promise<number> => (await genesysState()).tokensIssued as number;

/** Attributes whose processed `{attributes}` is exactly `bytes` bytes. */
const attributesOfBytes = (bytes: number) => ({ note: 'x'.repeat(bytes - Buffer.byteLength(JSON.stringify({ attributes: { note: '' } }))) });

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
  await pauseWorker();
});
afterAll(async () => {
  await purge('queue');
  await setWorkerPaused(false);
});
beforeEach(async () => {
  await resetSandboxes();
  // The reset revokes every Genesys token: one warm-up call lets the function refresh its
  // cached token now, so each test sees only its own requests.
  expect((await prefill(randomUUID(), { attributes: { warmup: true } })).status).toBe(200);
  await purge('queue');
});

describe('POST /sessions/{sessionId}/prefill', () => {
  it('prefills a session as the README shows and queues one job without plaintext identifiers', async () => {
    // Prepare
    const sessionId = randomUUID();

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
    expect(body).toEqual({
      sessionId,
      attributeCount: 7,
      byteSize: expect.any(Number),
      maskedKeys: ['email', 'phone', 'note'],
      syncJobId: expect.stringMatching(/^prefill-[0-9a-f]{32}$/),
      sync: 'queued',
    });
    const state = await genesysState();
    expect(state.sessions[sessionId]).toEqual({
      first_name: 'Jane',
      email: '*'.repeat(23),
      phone: '***-***-****',
      note: 'SSN on file: ***-**-****',
      zip: '02134',
      visits: 3,
      marketing_opt_in: false,
    });
    expect(state.piiFindings).toEqual([]);
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

  it('gives the same prefill sent twice the same sync job id', async () => {
    // Prepare
    const sessionId = randomUUID();
    const payload = { attributes: { tier: 'gold' } };

    // Act
    const first = (await (await prefill(sessionId, payload)).json()) as { syncJobId: string };
    const second = (await (await prefill(sessionId, payload)).json()) as { syncJobId: string };

    // Assess
    expect(second.syncJobId).toBe(first.syncJobId);
  });

  it('succeeds in three calls when Genesys answers 429 twice, waiting as Retry-After asks', async () => {
    // Prepare
    const sessionId = randomUUID();
    await addFaults('genesys', [{ operation: 'putSessionAttributes', status: 429, retryAfterSeconds: 1, times: 2 }]);

    // Act
    const response = await prefill(sessionId, { attributes: { tier: 'gold' } });

    // Assess
    expect(response.status).toBe(200);
    const puts = await putsFor(sessionId);
    expect(puts.map((r) => r.status)).toEqual([429, 429, 200]);
    // Each retry came after the second Genesys asked for (a lower bound on a wait, not a speed check).
    const gaps = puts.slice(1).map((r, i) => Date.parse(r.at) - Date.parse(puts[i]?.at ?? ''));
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(950);
    expect(await queueDepth('queue')).toBe(1);
  });

  it('refreshes an expired token once and succeeds', async () => {
    // Prepare
    const sessionId = randomUUID();
    await fetch(`${stack().genesysUrl}/__sandbox/tokens/expire`, { method: 'POST' });
    const issuedBefore = await tokensIssued();

    // Act
    const response = await prefill(sessionId, { attributes: { tier: 'gold' } });

    // Assess
    expect(response.status).toBe(200);
    expect((await putsFor(sessionId)).map((r) => r.status)).toEqual([401, 200]);
    expect(await tokensIssued()).toBe(issuedBefore + 1);
  });

  it('reports the size in a 413 for 10,241 bytes and accepts exactly 10,240', async () => {
    // Prepare
    const tooBig = randomUUID();
    const atLimit = randomUUID();

    // Act
    const refused = await prefill(tooBig, { attributes: attributesOfBytes(10_241) });
    const accepted = await prefill(atLimit, { attributes: attributesOfBytes(10_240) });

    // Assess
    expect(refused.status).toBe(413);
    expect(await refused.json()).toMatchObject({ status: 413, detail: expect.stringContaining('10241 bytes') });
    expect(await putsFor(tooBig)).toEqual([]);
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toMatchObject({ byteSize: 10_240 });
  });

  describe.each([
    ['Genesys 404 (session unknown or expired)', [{ operation: 'putSessionAttributes', status: 404 }], 404, [404]],
    ['Genesys 429 three times', [{ operation: 'putSessionAttributes', status: 429, retryAfterSeconds: 1, times: 3 }], 503, [429, 429, 429]],
    ['Genesys 401 even after a token refresh', [{ operation: 'putSessionAttributes', status: 401, times: 2 }], 502, [401, 401]],
    ['Genesys 403', [{ operation: 'putSessionAttributes', status: 403 }], 502, [403]],
    ['Genesys 500 three times', [{ operation: 'putSessionAttributes', status: 500, times: 3 }], 502, [500, 500, 500]],
  ])('on %s', (_case, faults, status, upstream) => {
    it(`answers ${status} and leaves the queue empty`, async () => {
      // Prepare
      const sessionId = randomUUID();
      await addFaults('genesys', faults);

      // Act
      const response = await prefill(sessionId, { attributes: { tier: 'gold', email: 'jane@example.com' } });

      // Assess
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      const problem = (await response.json()) as Record<string, unknown>;
      expect(problem).toMatchObject({ status, operation: 'putSessionAttributes' });
      expect(JSON.stringify(problem)).not.toContain('jane@example.com');
      if (status === 503) expect(response.headers.get('retry-after')).toBe('1');
      expect((await putsFor(sessionId)).map((r) => r.status)).toEqual(upstream);
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
    it(`with ${status}, calls nothing and leaves the queue empty`, async () => {
      // Act
      const response = await prefill(sessionId, body);

      // Assess
      expect(response.status).toBe(status);
      expect(await response.json()).toMatchObject({ status, errors: expect.any(Array) });
      expect(await putsFor(sessionId)).toEqual([]);
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
      expect(await putsFor(sessionId)).toEqual([]);
    });
  });
});
