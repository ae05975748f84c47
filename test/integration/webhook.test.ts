/**
 * POST /webhooks/genesys against the local stack, as Genesys delivers: signed over the raw
 * bytes with the secret in the local Secrets Manager, no bearer token, and the CRM sync
 * queue read with the worker paused.
 */
import { randomUUID } from 'node:crypto';
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signPayload } from '#lib/webhook';
import { crmState, peekMessages, purge, queueDepth, setWorkerPaused, stack, until } from '#test/support/stack.ts';

let secretsManager: SecretsManagerClient;
let originalSecret: string;

const readSecret = async (): Promise<string> => {
  const { SecretString } = await secretsManager.send(new GetSecretValueCommand({ SecretId: stack().secretIds.webhook }));
  return (JSON.parse(SecretString ?? '{}') as { signingSecret: string }).signingSecret;
};
const storeSecret = (signingSecret: string) =>
  secretsManager.send(new PutSecretValueCommand({ SecretId: stack().secretIds.webhook, SecretString: JSON.stringify({ signingSecret }) }));

const update = (overrides: Record<string, unknown> = {}) => ({
  eventId: randomUUID(),
  event: 'guest.session.attributes.updated',
  sessionId: randomUUID(),
  attributes: { first_name: 'Jane', tier: 'gold', email: 'jane.doe@enterprise.com' },
  timestamp: new Date(Date.now() - 1_000).toISOString(),
  ...overrides,
});

/** Delivers `body` as Genesys would, signed with `secret` (the current one by default). */
async function deliver(body: unknown, options: { secret?: string; signature?: string | null; contentType?: string } = {}): Promise<Response> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const signature = options.signature === undefined ? signPayload(options.secret ?? (await readSecret()), Buffer.from(text)) : options.signature;
  return fetch(`${stack().apiUrl}/webhooks/genesys`, {
    method: 'POST',
    headers: {
      'content-type': options.contentType ?? 'application/json',
      'x-crm-integration': 'true',
      ...(signature === null ? {} : { 'x-hub-signature-256': signature }),
    },
    body: text,
  });
}

/**
 * Pauses the worker and waits out a batch it may be gathering: a pause only stops the next
 * batch, and the event source collects for up to its 5 s batching window.
 */
async function pauseWorker(): Promise<void> {
  await setWorkerPaused(true);
  await new Promise((done) => setTimeout(done, 6_500));
}

const queuedJobs = async (): Promise<Array<Record<string, any>>> => (await peekMessages('queue')).map((m) => JSON.parse(m.Body ?? '{}'));

beforeAll(async () => {
  secretsManager = new SecretsManagerClient({
    region: 'us-east-1',
    endpoint: stack().secretsEndpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  originalSecret = await readSecret();
  await pauseWorker();
});
afterAll(async () => {
  // Leave the stack as found: the original secret current again (the test's one as previous).
  if ((await readSecret()) !== originalSecret) await storeSecret(originalSecret);
  await purge('queue');
  await setWorkerPaused(false);
  secretsManager.destroy();
});
beforeEach(async () => {
  await purge('queue');
});

describe('POST /webhooks/genesys', () => {
  it('acknowledges a signed attribute update with 202 and queues its job, without a bearer token', async () => {
    // Prepare
    const event = update();

    // Act
    const response = await deliver(event);

    // Assess
    expect(response.status).toBe(202);
    const body = (await response.json()) as { acknowledged: boolean; jobId: string };
    expect(body).toEqual({ acknowledged: true, jobId: expect.stringMatching(/^webhook-[0-9a-f]{32}$/) });
    const jobs = await queuedJobs();
    expect(jobs).toEqual([
      expect.objectContaining({
        source: 'webhook',
        jobId: body.jobId,
        record: expect.objectContaining({ externalId: event.sessionId, attributes: { first_name: 'Jane', tier: 'gold' }, sourceUpdatedAt: event.timestamp }),
      }),
    ]);
    expect(JSON.stringify(jobs)).not.toContain('jane.doe@enterprise.com');
  });

  it('verifies the decoded bytes when API Gateway base64-encodes the body', async () => {
    // Prepare: the local HTTP API, like API Gateway, base64-encodes binary content types.
    const event = update();

    // Act
    const response = await deliver(event, { contentType: 'application/octet-stream' });

    // Assess
    expect(response.status).toBe(202);
    expect(await queueDepth('queue')).toBe(1);
  });

  it('gives a duplicate delivery the same jobId', async () => {
    // Prepare
    const text = JSON.stringify(update());

    // Act
    const first = (await (await deliver(text)).json()) as { jobId: string };
    const second = (await (await deliver(text)).json()) as { jobId: string };

    // Assess
    expect(second.jobId).toBe(first.jobId);
    expect((await queuedJobs()).map((job) => job['jobId'])).toEqual([first.jobId, first.jobId]);
  });

  it('acknowledges another event type as ignored and queues nothing', async () => {
    // Act
    const response = await deliver({ event: 'conversation.ended', timestamp: new Date().toISOString() });

    // Assess
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ acknowledged: true, ignored: true });
    expect(await queueDepth('queue')).toBe(0);
  });

  describe.each([
    ['no signature', () => deliver(update(), { signature: null }), 401],
    ['a wrong signature', () => deliver(update(), { secret: 'not-the-signing-secret' }), 401],
    ['a stale timestamp', () => deliver(update({ timestamp: new Date(Date.now() - 6 * 60_000).toISOString() })), 400],
    ['a timestamp in the future', () => deliver(update({ timestamp: new Date(Date.now() + 6 * 60_000).toISOString() })), 400],
    ['malformed JSON', () => deliver('{"event":"guest.session.attributes.updated",'), 400],
    ['an unknown shape', () => deliver({ sessionId: randomUUID() }), 400],
  ])('refuses %s', (_case, send, status) => {
    it(`with ${status} and queues nothing`, async () => {
      // Act
      const response = await send();

      // Assess
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(await queueDepth('queue')).toBe(0);
    });
  });

  it('keeps accepting the previous secret version after a rotation, and the new one at once', async () => {
    // Prepare
    const previous = await readSecret();
    const rotated = `rotated-${randomUUID()}`;
    await storeSecret(rotated);

    // Act: the function re-reads the secret on the first signature it cannot match
    // (at most every few seconds), so the new secret is accepted without waiting for the cache.
    let withNew = 0;
    await until(async () => (withNew = (await deliver(update(), { secret: rotated })).status) === 202, 15_000, 'the new secret accepted');
    const withPrevious = await deliver(update(), { secret: previous });
    const withForged = await deliver(update(), { secret: `forged-${randomUUID()}` });

    // Assess
    expect(withNew).toBe(202);
    expect(withPrevious.status).toBe(202);
    expect(withForged.status).toBe(401);
  });

  it('leaves the CRM record as one delivery would when an event is delivered twice (once the worker runs)', async (context) => {
    // Prepare
    const sources = (await (await fetch(`${stack().controlUrl}/__local/event-sources`)).json()) as Record<string, unknown>;
    if (Object.keys(sources).length === 0) context.skip();
    const event = update({ attributes: { tier: 'platinum' } });
    const text = JSON.stringify(event);

    // Act
    await deliver(text);
    await deliver(text);
    await setWorkerPaused(false);
    await until(async () => (await queueDepth('queue')) === 0, 20_000, 'the queue drained');
    await pauseWorker();

    // Assess
    const record = (await crmState()).records[event.sessionId];
    expect(record?.record).toMatchObject({ externalId: event.sessionId, attributes: { tier: 'platinum' } });
    expect(record?.versions).toBe(1);
  });
});
