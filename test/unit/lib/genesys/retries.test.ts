import { afterEach, describe, expect, it } from 'vitest';
import { GenesysClient, GenesysError, genesysOperations } from '#lib/genesys';
import { caught, countingTokens, recordingSleep, testClient } from './support.ts';
import { startScriptedServer, unreachableUrl } from '#test/support/scripted-server.ts';
import type { Reply, ScriptedServer } from '#test/support/scripted-server.ts';

const CONVERSATION_ID = '3f2a6c1e-8b7d-4e3f-9a1b-2c3d4e5f6a7b';
const PARTICIPANT_ID = '9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f';
/** Genesys accepts an attribute PATCH with 202 and no body. */
const ok = { status: 202 } satisfies Reply;

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Prefill's write on a linked conversation: a PATCH of the guest participant's attributes, safe to repeat. */
const prefill = (client: GenesysClient) =>
  client.call(genesysOperations.patchParticipantAttributes, {
    params: { conversationId: CONVERSATION_ID, participantId: PARTICIPANT_ID },
    body: { attributes: { tier: 'gold' } },
  });

describe('a throttled call (429)', () => {
  it('waits exactly as long as Retry-After says, then succeeds', async () => {
    // Prepare
    server = await startScriptedServer([{ status: 429, headers: { 'Retry-After': '2' } }, ok]);
    const { client, delays } = testClient(server.url);

    // Act
    const response = await prefill(client);

    // Assess
    expect(response.status).toBe(202);
    expect(delays).toEqual([2000]);
    expect(server.requests).toHaveLength(2);
  });

  it('reads a Retry-After HTTP date against the clock', async () => {
    // Prepare
    const now = Date.parse('2026-03-01T10:00:00Z');
    server = await startScriptedServer([{ status: 429, headers: { 'Retry-After': 'Sun, 01 Mar 2026 10:00:03 GMT' } }, ok]);
    const { client, delays } = testClient(server.url, { now: () => now });

    // Act
    await prefill(client);

    // Assess
    expect(delays).toEqual([3000]);
  });

  describe.each([
    { random: 0, expected: [0, 0] },
    { random: 0.5, expected: [100, 200] },
    { random: 0.999, expected: [199, 399] },
  ])('without Retry-After and random() = $random', ({ random, expected }) => {
    it(`backs off with full jitter: ${expected.join(' ms, then ')} ms`, async () => {
      // Prepare
      server = await startScriptedServer([{ status: 429 }, { status: 429 }, ok]);
      const { client, delays } = testClient(server.url, { random: () => random, baseDelayMs: 200 });

      // Act
      await prefill(client);

      // Assess
      expect(delays).toEqual(expected);
    });
  });

  it('keeps every jittered wait within [0, min(maxDelay, base * 2^n)) over many random draws', async () => {
    // Prepare
    const draws = Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? 0.999 : i / 200));
    let next = 0;
    const { sleep, delays } = recordingSleep();
    const throttled = async () => new Response(null, { status: 429 });
    const client = new GenesysClient({
      apiBaseUrl: 'https://api.example.test',
      tokens: countingTokens(),
      fetch: throttled,
      sleep,
      random: () => draws[next++ % draws.length] ?? 0,
      maxAttempts: 6,
      baseDelayMs: 200,
      maxDelayMs: 1_000,
    });

    // Act
    for (let call = 0; call < 40; call += 1) await caught(() => prefill(client));

    // Assess
    const ceilings = [200, 400, 800, 1_000, 1_000];
    expect(delays).toHaveLength(40 * ceilings.length);
    delays.forEach((delay, i) => {
      const ceiling = ceilings[i % ceilings.length] ?? 0;
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(ceiling);
    });
    expect(Math.max(...delays)).toBe(999);
  });

  it('still throttled after 3 attempts answers 503 with Retry-After', async () => {
    // Prepare
    const throttled: Reply = { status: 429, headers: { 'Retry-After': '1' } };
    server = await startScriptedServer([throttled, throttled, throttled, ok]);
    const { client } = testClient(server.url);

    // Act
    const error = await caught<GenesysError>(() => prefill(client));

    // Assess
    expect(error).toBeInstanceOf(GenesysError);
    expect(error).toMatchObject({ status: 503, upstreamStatus: 429, retryable: true, attempts: 3, retryAfterSeconds: 1 });
    expect(error.headers['Retry-After']).toBe('1');
    expect(server.requests).toHaveLength(3);
  });

  it('does not wait out a Retry-After beyond maxRetryAfterMs', async () => {
    // Prepare
    server = await startScriptedServer([{ status: 429, headers: { 'Retry-After': '3600' } }, ok]);
    const { client, delays } = testClient(server.url);

    // Act
    const error = await caught<GenesysError>(() => prefill(client));

    // Assess
    expect(error).toMatchObject({ status: 503, retryAfterSeconds: 3600 });
    expect(error.headers['Retry-After']).toBe('3600');
    expect(delays).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });
});

describe('transient failures', () => {
  describe.each([500, 502, 503, 504])('a %i answer', (status) => {
    it('is retried and the next success is returned', async () => {
      // Prepare
      server = await startScriptedServer([{ status }, ok]);
      const { client, delays } = testClient(server.url);

      // Act
      const response = await prefill(client);

      // Assess
      expect(response.status).toBe(202);
      expect(server.requests).toHaveLength(2);
      expect(delays).toHaveLength(1);
    });
  });

  it('retries a dropped connection', async () => {
    // Prepare
    server = await startScriptedServer([{ drop: true }, ok]);
    const { client, delays } = testClient(server.url);

    // Act
    const response = await prefill(client);

    // Assess
    expect(response.status).toBe(202);
    expect(server.requests).toHaveLength(2);
    expect(delays).toHaveLength(1);
  });

  it('makes at most 3 attempts: the 4th request never happens', async () => {
    // Prepare
    server = await startScriptedServer([{ status: 500 }, { status: 502 }, { status: 503 }, ok]);
    const { client, delays } = testClient(server.url);

    // Act
    const error = await caught<GenesysError>(() => prefill(client));

    // Assess
    expect(server.requests).toHaveLength(3);
    expect(delays).toHaveLength(2);
    expect(error).toMatchObject({ kind: 'http', status: 502, upstreamStatus: 503, attempts: 3, retryable: true });
  });

  it('reports an unreachable Genesys as a network failure (502) after 3 attempts', async () => {
    // Prepare
    const { client, tokens } = testClient(await unreachableUrl());

    // Act
    const error = await caught<GenesysError>(() => prefill(client));

    // Assess
    expect(error).toMatchObject({ kind: 'network', status: 502, upstreamStatus: undefined, attempts: 3 });
    expect(tokens.getTokenCalls).toBe(3);
  });
});

describe('answers that are never retried', () => {
  describe.each([
    { upstream: 400, status: 502 },
    { upstream: 403, status: 502 },
    { upstream: 404, status: 404 },
    { upstream: 409, status: 502 },
    { upstream: 412, status: 412 },
    { upstream: 413, status: 502 },
    { upstream: 422, status: 502 },
  ])('a $upstream answer', ({ upstream, status }) => {
    it(`surfaces at once as ${status}`, async () => {
      // Prepare
      server = await startScriptedServer([{ status: upstream }, ok]);
      const { client, delays, tokens } = testClient(server.url);

      // Act
      const error = await caught<GenesysError>(() => prefill(client));

      // Assess
      expect(error).toBeInstanceOf(GenesysError);
      expect(error).toMatchObject({ kind: 'http', upstreamStatus: upstream, status, retryable: false, attempts: 1 });
      expect(server.requests).toHaveLength(1);
      expect(delays).toEqual([]);
      expect(tokens.invalidateCalls).toBe(0);
    });
  });
});

describe('an expired token (401)', () => {
  it('is invalidated once and the call succeeds with the fresh token', async () => {
    // Prepare
    server = await startScriptedServer([{ status: 401 }, ok]);
    const { client, tokens, delays } = testClient(server.url);

    // Act
    const response = await prefill(client);

    // Assess
    expect(response.status).toBe(202);
    expect(tokens.invalidateCalls).toBe(1);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(['Bearer token-1', 'Bearer token-2']);
    expect(delays).toEqual([]);
  });

  it('answered 401 again after the refresh surfaces as 502 without a second refresh', async () => {
    // Prepare
    server = await startScriptedServer([{ status: 401 }, { status: 401 }, ok]);
    const { client, tokens } = testClient(server.url);

    // Act
    const error = await caught<GenesysError>(() => prefill(client));

    // Assess
    expect(error).toMatchObject({ status: 502, upstreamStatus: 401, retryable: false, attempts: 2 });
    expect(tokens.invalidateCalls).toBe(1);
    expect(server.requests).toHaveLength(2);
  });

  it('does not use up a transient retry: a call sends at most maxAttempts + 1 requests', async () => {
    // Prepare
    server = await startScriptedServer([{ status: 401 }, { status: 500 }, { status: 500 }, { status: 500 }, ok]);
    const { client, tokens } = testClient(server.url);

    // Act
    const error = await caught<GenesysError>(() => prefill(client));

    // Assess
    expect(server.requests).toHaveLength(4);
    expect(error).toMatchObject({ upstreamStatus: 500, attempts: 4 });
    expect(tokens.invalidateCalls).toBe(1);
  });
});

describe('a create whose outcome is unknown', () => {
  /** A guest's external contact: Genesys may commit it even when the answer never arrives. */
  const create = (client: GenesysClient) =>
    client.call(genesysOperations.createExternalContact, {
      body: { externalIds: [{ externalSource: { id: 'src-1' }, value: 'a'.repeat(64) }] },
    });
  const created: Reply = { status: 200, body: { id: '5b8f1c2d-3e4a-4b5c-8d6e-7f8091a2b3c4' } };

  it.each([
    { what: 'a 500', first: { status: 500 } as Reply },
    { what: 'a 503', first: { status: 503 } as Reply },
    { what: 'a dropped connection', first: { drop: true } as Reply },
  ])('is not sent again after $what: Genesys may have created it', async ({ first }) => {
    // Prepare
    server = await startScriptedServer([first, created]);
    const { client } = testClient(server.url);

    // Act
    const error = await caught<GenesysError>(() => create(client));

    // Assess
    expect(error).toBeInstanceOf(GenesysError);
    expect(server.requests).toHaveLength(1);
  });

  it('is not sent again after a timeout', async () => {
    // Prepare
    server = await startScriptedServer([{ hang: true }, created]);
    const { client } = testClient(server.url, { timeoutMs: 200 });

    // Act
    const error = await caught<GenesysError>(() => create(client));

    // Assess
    expect(error).toMatchObject({ kind: 'timeout' });
    expect(server.requests).toHaveLength(1);
  });

  it('is sent again after a 429 (refused before any work) and a 401 refresh', async () => {
    // Prepare
    server = await startScriptedServer([{ status: 401 }, { status: 429, headers: { 'Retry-After': '1' } }, created]);
    const { client } = testClient(server.url);

    // Act
    const response = await create(client);

    // Assess
    expect(response.status).toBe(200);
    expect(server.requests).toHaveLength(3);
  });

  it('is sent again when the connection was refused (nothing reached Genesys)', async () => {
    // Prepare: a closed port first, then a live one
    const closed = await unreachableUrl();
    server = await startScriptedServer([created]);
    let calls = 0;
    const live = server.url;
    const { client } = testClient(closed, {
      fetch: (url, init) => {
        calls += 1;
        return fetch(calls === 1 ? String(url) : String(url).replace(closed, live), init);
      },
    });

    // Act
    const response = await create(client);

    // Assess
    expect(response.status).toBe(200);
    expect(calls).toBe(2);
  });

  it.each([
    { what: 'an attribute PATCH', act: prefill, success: ok },
    {
      what: 'a whole-contact PUT',
      act: (client: GenesysClient) =>
        client.call(genesysOperations.updateExternalContact, { params: { contactId: 'contact-1' }, body: { customFields: { tier_text: 'gold' } } }),
      success: { status: 200, body: { id: 'contact-1' } },
    },
    {
      what: 'an identifier lookup (a POST that reads)',
      act: (client: GenesysClient) =>
        client.call(genesysOperations.lookupContactByIdentifier, { body: { type: 'ExternalId', value: 'a'.repeat(64), externalSource: { id: 'src-1' } } }),
      success: { status: 200, body: { id: 'contact-1' } },
    },
  ])('is unlike $what, which is still retried after a 500', async ({ act, success }) => {
    // Prepare
    server = await startScriptedServer([{ status: 500 }, success]);
    const { client } = testClient(server.url);

    // Act
    const response = await act(client);

    // Assess
    expect(response.status).toBe(success.status);
    expect(server.requests).toHaveLength(2);
  });
});
