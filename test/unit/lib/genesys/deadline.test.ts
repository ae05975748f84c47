import { afterEach, describe, expect, it } from 'vitest';
import { GenesysError, deadlineAfter, deadlineFromContext, genesysOperations } from '#lib/genesys';
import type { Deadline, GenesysClient } from '#lib/genesys';
import { caught, testClient } from './support.ts';
import { startScriptedServer } from '#test/support/scripted-server.ts';
import type { ScriptedServer } from '#test/support/scripted-server.ts';

const CONVERSATION_ID = '3f2a6c1e-8b7d-4e3f-9a1b-2c3d4e5f6a7b';
const PARTICIPANT_ID = '9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f';

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const fixed = (ms: number): Deadline => ({ remainingMs: () => ms });

/** Prefill's write: the guest participant's attributes. */
const patchAttributes = (client: GenesysClient, deadline: Deadline) =>
  client.call(genesysOperations.patchParticipantAttributes, {
    params: { conversationId: CONVERSATION_ID, participantId: PARTICIPANT_ID },
    body: { attributes: { tier: 'gold' } },
    deadline,
  });
const getContact = (client: GenesysClient, deadline: Deadline) =>
  client.call(genesysOperations.getExternalContact, { params: { contactId: 'contact-1' }, deadline });
const getDeployment = (client: GenesysClient, deadline: Deadline) =>
  client.call(genesysOperations.getWebDeployment, { params: { deploymentId: 'dep-1' }, deadline });

/** A Lambda context whose invocation ends `ms` from now, on the real clock. */
const lambdaEndingIn = (ms: number) => {
  const end = Date.now() + ms;
  return { getRemainingTimeInMillis: () => end - Date.now() };
};

describe('a call with no time left', () => {
  it('fails at once with a timeout (504) without asking for a token or sending anything', async () => {
    // Prepare
    server = await startScriptedServer([{ status: 200 }]);
    const { client, tokens } = testClient(server.url);

    // Act
    const error = await caught<GenesysError>(() => patchAttributes(client, fixed(0)));

    // Assess
    expect(error).toBeInstanceOf(GenesysError);
    expect(error).toMatchObject({ kind: 'timeout', status: 504, attempts: 0, upstreamStatus: undefined });
    expect(server.requests).toHaveLength(0);
    expect(tokens.getTokenCalls).toBe(0);
  });
});

describe('a wait that would pass the deadline', () => {
  it('is not taken after a 429: the throttling surfaces as 503 with its Retry-After', async () => {
    // Prepare
    server = await startScriptedServer([{ status: 429, headers: { 'Retry-After': '5' } }, { status: 200 }]);
    const { client, delays } = testClient(server.url);

    // Act
    const error = await caught<GenesysError>(() => patchAttributes(client, fixed(1_000)));

    // Assess
    expect(error).toMatchObject({ status: 503, upstreamStatus: 429, retryAfterSeconds: 5, attempts: 1 });
    expect(error.headers['Retry-After']).toBe('5');
    expect(delays).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('is not taken after a 5xx when the jittered backoff is longer than what is left', async () => {
    // Prepare
    server = await startScriptedServer([{ status: 500 }, { status: 200 }]);
    const { client, delays } = testClient(server.url, { random: () => 0.999, baseDelayMs: 200 });

    // Act
    const error = await caught<GenesysError>(() => getContact(client, fixed(150)));

    // Assess
    expect(error).toMatchObject({ status: 502, upstreamStatus: 500, attempts: 1 });
    expect(delays).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('is taken when it fits', async () => {
    // Prepare
    server = await startScriptedServer([{ status: 500 }, { status: 200, body: { id: 'contact-1' } }]);
    const { client, delays } = testClient(server.url, { random: () => 0.5, baseDelayMs: 200 });

    // Act
    const response = await getContact(client, fixed(150));

    // Assess
    expect(response.body).toEqual({ id: 'contact-1' });
    expect(delays).toEqual([100]);
  });
});

describe('an attempt Genesys never answers', () => {
  it('is cut off by the Lambda deadline, not the 10 s timeout, and answers 504', async () => {
    // Prepare
    server = await startScriptedServer([{ hang: true }, { status: 200 }]);
    const { client } = testClient(server.url);
    const deadline = deadlineFromContext(lambdaEndingIn(400), 300);

    // Act
    const error = await caught<GenesysError>(() => getDeployment(client, deadline));

    // Assess
    expect(error).toBeInstanceOf(GenesysError);
    expect(error).toMatchObject({ kind: 'timeout', status: 504, upstreamStatus: undefined, retryable: true });
    expect(server.requests).toHaveLength(1);
  });

  it('is cut off by timeoutMs when the deadline is far, and retried like any transient failure', async () => {
    // Prepare
    server = await startScriptedServer([{ hang: true }, { hang: true }, { hang: true }]);
    const { client, delays } = testClient(server.url, { timeoutMs: 50 });

    // Act
    const error = await caught<GenesysError>(() => getDeployment(client, fixed(60_000)));

    // Assess
    expect(error).toMatchObject({ kind: 'timeout', status: 504, attempts: 3 });
    expect(server.requests).toHaveLength(3);
    expect(delays).toHaveLength(2);
  });
});

describe('a login service that never answers', () => {
  it('holds the call no longer than the deadline: 504, nothing sent', async () => {
    // Prepare
    server = await startScriptedServer([{ status: 200 }]);
    const { client } = testClient(server.url, { tokens: { getToken: () => new Promise<string>(() => undefined), invalidate: () => undefined } });

    // Act
    const error = await caught<GenesysError>(() => getDeployment(client, deadlineFromContext(lambdaEndingIn(150), 50)));

    // Assess
    expect(error).toBeInstanceOf(GenesysError);
    expect(error).toMatchObject({ kind: 'timeout', status: 504, attempts: 0 });
    expect(server.requests).toHaveLength(0);
  });

  it("lets the token source's own timeout through unchanged: only the call's deadline is a 504", async () => {
    // Prepare: the token source gives up first, with a TimeoutError of its own
    server = await startScriptedServer([{ status: 200 }]);
    const own = Object.assign(new Error('login service did not answer'), { name: 'TimeoutError' });
    const { client } = testClient(server.url, { tokens: { getToken: () => Promise.reject(own), invalidate: () => undefined } });

    // Act
    const error = await caught(() => getDeployment(client, fixed(60_000)));

    // Assess
    expect(error).toBe(own);
    expect(server.requests).toHaveLength(0);
  });
});

describe('deadlines', () => {
  it('from a Lambda context keep the safety margin back and never go negative', () => {
    // Prepare
    let remaining = 3_000;
    const context = { getRemainingTimeInMillis: () => remaining };

    // Act
    const deadline = deadlineFromContext(context, 500);
    const early = deadline.remainingMs();
    remaining = 200;
    const late = deadline.remainingMs();

    // Assess
    expect(early).toBe(2_500);
    expect(late).toBe(0);
  });

  it('after a fixed budget count down on the given clock', () => {
    // Prepare
    let now = 1_000;
    const deadline = deadlineAfter(5_000, () => now);

    // Act
    now += 4_000;
    const left = deadline.remainingMs();
    now += 2_000;
    const none = deadline.remainingMs();

    // Assess
    expect(left).toBe(1_000);
    expect(none).toBe(0);
  });
});
