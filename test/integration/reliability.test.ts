/**
 * The fast cells of the fault matrix, on the shared local stack: requests accepted by the
 * HTTP routes (prefill, webhook) while Genesys misbehaves, duplicated deliveries, a batch
 * SQS delivers again, and a worker invocation that dies mid-batch. Every cell ends with the
 * nothing-lost invariant (each accepted job in the CRM at its newest version, or in the DLQ
 * with a reason) and the no-duplicate check (the CRM sandbox applied no key twice).
 *
 * The CRM faults (429, 5xx, timeouts, 409 in flight, partial record failures, an answer past
 * the function timeout) are cells of test/integration/crm-sync.test.ts, with the same
 * invariant from test/support/invariant.ts; the longer cells run in `npm run test:soak`.
 */
import { randomUUID } from 'node:crypto';
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CrmSyncJob } from '#lib/jobs';
import { signPayload } from '#lib/webhook';
import { localSqsClient } from '#local/sqs.ts';
import { expectAcceptedJobsSettled, expectNothingLost, type AcceptedJob } from '#test/support/invariant.ts';
import { job } from '#test/support/factories.ts';
import { addFaults, crmState, enqueue, genesysState, machineToken, purge, queueDepth, resetSandboxes, setWorkerPaused, stack, startLinkedConversation, until } from '#test/support/stack.ts';

let token: string;
let secretsManager: SecretsManagerClient;
let originalGenesysCredentials: { clientId: string; clientSecret: string };
let webhookSecret: string;

/** What a route answers a caller: documented failures are problem documents. */
interface Answer {
  status: number;
  body: Record<string, any>;
  contentType: string;
}

const answer = async (response: Response): Promise<Answer> => ({
  status: response.status,
  contentType: response.headers.get('content-type') ?? '',
  body: (await response.json()) as Record<string, any>,
});

const prefill = async (sessionId: string, attributes: Record<string, string> = { first_name: 'Jane', tier: 'gold' }): Promise<Answer> =>
  answer(
    await fetch(`${stack().apiUrl}/sessions/${sessionId}/prefill`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ attributes }),
    }),
  );

/** The prefill answers that accepted a job, as the invariant wants them. */
const acceptedPrefills = (answers: Array<[string, Answer]>): AcceptedJob[] =>
  answers.filter(([, a]) => a.status === 200 && !functionTimedOut(a)).map(([sessionId, a]) => ({ jobId: a.body['syncJobId'] as string, externalId: sessionId }));

/**
 * Prefills `count` fresh sessions at once, each already in a conversation (prepared with
 * other attributes, the guest's first message played, the link recorded as the events
 * function records it), so that every one of these prefills PATCHes Genesys.
 */
const prefillMany = async (count: number): Promise<Array<[string, Answer]>> => {
  const sessions = await Promise.all(
    Array.from({ length: count }, async () => {
      const id = randomUUID();
      const prepared = await prefill(id, { tier: 'silver' });
      if (prepared.status !== 200) throw new Error(`preparing session ${id} answered ${prepared.status}`);
      await startLinkedConversation(id, prepared.body['customAttributes'] as Record<string, string>);
      return id;
    }),
  );
  return Promise.all(sessions.map(async (id) => [id, await prefill(id)] as [string, Answer]));
};

const deliverWebhook = async (text: string): Promise<Answer> =>
  answer(
    await fetch(`${stack().apiUrl}/webhooks/genesys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signPayload(webhookSecret, Buffer.from(text)) },
      body: text,
    }),
  );

const readSecret = async <T>(id: string): Promise<T> =>
  JSON.parse((await secretsManager.send(new GetSecretValueCommand({ SecretId: id }))).SecretString ?? '{}') as T;

const rotateGenesysClients = (clientSecret: string, revokeTokens: boolean) =>
  fetch(`${stack().genesysUrl}/__sandbox/clients`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ clients: [{ clientId: originalGenesysCredentials.clientId, clientSecret }], revokeTokens }),
  });

const storeGenesysSecret = (clientSecret: string) =>
  secretsManager.send(
    new PutSecretValueCommand({ SecretId: stack().secretIds.genesys, SecretString: JSON.stringify({ ...originalGenesysCredentials, clientSecret }) }),
  );

/** Messages on the CRM sync queue: visible, in flight, and delayed (a job the worker sent again as a new message). */
async function queued(): Promise<number> {
  const client = localSqsClient(stack().sqsEndpoint);
  try {
    const names = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] as const;
    const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: stack().queueUrl, AttributeNames: [...names] }));
    return names.reduce((sum, name) => sum + Number(Attributes?.[name] ?? 0), 0);
  } finally {
    client.destroy();
  }
}

/** Waits until the worker has settled every message (none visible, none in flight, none delayed). */
const settled = (timeoutMs = 45_000) => until(async () => (await queued()) === 0, timeoutMs, 'the CRM sync queue to drain');

/** The upstream failures the contract maps Genesys faults to (never a 500). */
const DOCUMENTED_FAILURES = [502, 503, 504];

/**
 * serverless-offline answers a function that ran past its timeout with 200 and a
 * `LambdaTimeoutError` body where API Gateway answers 504; such an answer accepted nothing.
 */
const functionTimedOut = (a: Answer): boolean => a.status === 200 && a.body['errorType'] === 'LambdaTimeoutError';

const expectOnlySuccessOrDocumentedFailure = (answers: Answer[], allowFunctionTimeout = false): void => {
  for (const a of answers) {
    if (allowFunctionTimeout && functionTimedOut(a)) continue;
    if (a.status === 200) {
      expect(a.body['syncJobId']).toMatch(/^prefill-[0-9a-f]{32}$/);
      continue;
    }
    expect(DOCUMENTED_FAILURES).toContain(a.status);
    expect(a.contentType).toContain('application/problem+json');
  }
};

let runId = 0;
const jobFor = (externalId: string): CrmSyncJob =>
  job({ externalId, emailHash: 'c'.repeat(64), attributes: { tier: 'standard' }, enqueuedAt: new Date() });
const jobs = (count: number): CrmSyncJob[] => {
  runId += 1;
  return Array.from({ length: count }, (_, i) => jobFor(`rel-${runId}-${String(i).padStart(4, '0')}`));
};


beforeAll(async () => {
  token = await machineToken('guest-sync/write');
  secretsManager = new SecretsManagerClient({
    region: 'us-east-1',
    endpoint: stack().secretsEndpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  originalGenesysCredentials = await readSecret(stack().secretIds.genesys);
  webhookSecret = (await readSecret<{ signingSecret: string }>(stack().secretIds.webhook)).signingSecret;
  await setWorkerPaused(false);
});

beforeEach(async () => {
  await settled();
  await purge('dlq');
  await resetSandboxes();
  // The reset revokes every Genesys token: one warm-up call lets prefill refresh its token
  // now, so each cell's faults meet the requests of the cell.
  expect((await prefill(randomUUID())).status).toBe(200);
  await settled();
  await fetch(`${stack().crmUrl}/__sandbox/reset`, { method: 'POST' });
});

afterAll(async () => {
  // Leave the stack as found: the original Genesys credentials in the sandbox and the secret.
  await rotateGenesysClients(originalGenesysCredentials.clientSecret, false);
  await storeGenesysSecret(originalGenesysCredentials.clientSecret);
  await resetSandboxes();
  await purge('dlq');
  secretsManager.destroy();
});

describe('prefill while Genesys misbehaves', () => {
  // The last column: whether a request may outlive the function (Genesys slower than it).
  describe.each<[string, () => Promise<void>, boolean]>([
    ['a 429 storm', () => addFaults('genesys', [{ operation: 'patchConversationParticipantAttributes', status: 429, retryAfterSeconds: 1, times: 8 }]), false],
    ['a burst of 500, 502 and 503 answers', () => addFaults('genesys', [
      { operation: 'patchConversationParticipantAttributes', status: 503, times: 3 },
      { operation: 'patchConversationParticipantAttributes', status: 500, times: 2 },
      { operation: 'patchConversationParticipantAttributes', status: 502, times: 2 },
    ]), false],
    ['requests that time out', () => addFaults('genesys', [{ operation: 'patchConversationParticipantAttributes', delayMs: 11_000, times: 2 }]), true],
    ['the token endpoint down while the cached token expires', async () => {
      await addFaults('genesys', [{ operation: 'loginClientCredentialsGrant', status: 503, times: 6 }]);
      await fetch(`${stack().genesysUrl}/__sandbox/tokens/expire`, { method: 'POST' });
    }, false],
  ])('during %s', (_cell, inject, mayOutliveFunction) => {
    it('answers 200 or a documented problem (never a 500), and every accepted job ends in the CRM', async () => {
      // Prepare
      await inject();

      // Act
      const during = await prefillMany(8);
      const after = await prefillMany(2);
      await settled();

      // Assess
      expectOnlySuccessOrDocumentedFailure(during.map(([, a]) => a), mayOutliveFunction);
      expect(after.map(([, a]) => a.status)).toEqual([200, 200]);
      const accepted = acceptedPrefills([...during, ...after]);
      expect(await expectAcceptedJobsSettled(accepted)).toEqual([]);
      const faults = (await genesysState()).faults as Array<{ applied: number }>;
      expect(faults.some((fault) => fault.applied > 0)).toBe(true);
    });
  });

  it('picks up credentials rotated mid-run from Secrets Manager after the old secret stops working', async () => {
    // Prepare
    const rotated = `rotated-${randomUUID()}`;
    const before = await prefillMany(3);

    // Act: Genesys stops accepting the old secret (and its tokens), then the new one is stored
    await rotateGenesysClients(rotated, true);
    const inTheGap = await prefillMany(2);
    await storeGenesysSecret(rotated);
    const afterRotation: Array<[string, Answer]> = [];
    for (let i = 0; i < 4; i += 1) afterRotation.push(...(await prefillMany(1)));
    await settled();
    await storeGenesysSecret(originalGenesysCredentials.clientSecret);

    // Assess
    expect(before.map(([, a]) => a.status)).toEqual([200, 200, 200]);
    expectOnlySuccessOrDocumentedFailure(inTheGap.map(([, a]) => a));
    expect(afterRotation.map(([, a]) => a.status)).toEqual([200, 200, 200, 200]);
    expect(await expectAcceptedJobsSettled(acceptedPrefills([...before, ...inTheGap, ...afterRotation]))).toEqual([]);
  });
});

describe('duplicates and redelivery', () => {
  it('applies the same webhook delivered five times once', async () => {
    // Prepare
    const sessionId = randomUUID();
    const text = JSON.stringify({
      eventId: randomUUID(),
      event: 'guest.session.attributes.updated',
      sessionId,
      attributes: { first_name: 'Jane', tier: 'gold' },
      timestamp: new Date(Date.now() - 1_000).toISOString(),
    });

    // Act
    const answers = await Promise.all(Array.from({ length: 5 }, () => deliverWebhook(text)));
    await settled();

    // Assess
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202]);
    const jobIds = new Set(answers.map((a) => a.body['jobId'] as string));
    expect(jobIds.size).toBe(1);
    const [jobId] = [...jobIds] as [string];
    expect(await expectAcceptedJobsSettled([{ jobId, externalId: sessionId }])).toEqual([]);
    const state = await crmState<{ records: Record<string, unknown>; idempotency: Record<string, { applications: number }> }>();
    expect(Object.keys(state.records)).toEqual([sessionId]);
    expect(Object.values(state.idempotency).reduce((sum, entry) => sum + entry.applications, 0)).toBe(1);
  });

  it('applies a batch SQS delivers again after the worker applied it without a second application', async () => {
    // Prepare: the worker applies 30 jobs once
    const batch = jobs(30);
    await enqueue(batch);
    await settled();
    const first = await crmState<{ records: Record<string, { versions: number }> }>();

    // Act: the same messages arrive again
    await enqueue(batch);
    await settled();

    // Assess
    expect(await expectNothingLost(batch)).toEqual([]);
    const second = await crmState<{ records: Record<string, { versions: number }> }>();
    expect(Object.keys(second.records).sort()).toEqual(batch.map((job) => job.record.externalId).sort());
    for (const job of batch) expect(second.records[job.record.externalId]?.versions).toBe(first.records[job.record.externalId]?.versions);
  });

  it('loses nothing when an invocation dies mid-batch (its second chunk committed, the function timed out)', async () => {
    // Prepare: the worker takes two chunks of 50; the second upsert commits and then hangs
    // past the worker's 6 s timeout, so the invocation ends with its batch unacknowledged.
    // Its records stay claimed until its CRM budget ends: meanwhile SQS (2 s visibility)
    // delivers them again, and the worker holds them back until the claims lapse, without
    // dead-lettering any of them whatever the machine's load makes of the timing.
    await addFaults('crm', [{ operation: 'batchUpsert', delayAfterCommitMs: 6_500, afterCount: 1, times: 1 }]);
    await setWorkerPaused(true);
    // Only shapes the batch (a receive already in flight takes no part of it); nothing asserted depends on it.
    await new Promise((done) => setTimeout(done, 1_500));
    const batch = jobs(100);
    await enqueue(batch);

    // Act
    await setWorkerPaused(false);
    // Every job settled: none left on the queue (visible, in flight or delayed), and each
    // in the CRM or the DLQ; generous, since a loaded machine stretches every step.
    await settled(150_000);

    // Assess
    const state = await crmState<{
      faults: Array<{ applied: number }>;
      requests: Array<{ operation: string; idempotencyKey?: string; faultId?: string }>;
      idempotency: Record<string, { applications: number }>;
    }>();
    expect(state.faults.map((fault) => fault.applied)).toEqual([1]);
    // The chunk committed when the invocation died got no answer, so its records were sent
    // again after it (the worker marks them uncertain, never finished; a redelivery may group
    // them into other chunks, under other keys), and no key was applied twice.
    const upserts = state.requests.filter((r) => r.operation === 'batchUpsert');
    const cut = upserts.findIndex((r) => r.faultId !== undefined);
    const cutKey = upserts[cut]?.idempotencyKey ?? '';
    expect(upserts.slice(cut + 1).length).toBeGreaterThan(0);
    expect(state.idempotency[cutKey]?.applications).toBe(1);
    expect(Object.values(state.idempotency).filter((entry) => entry.applications > 1)).toEqual([]);
    expect(await expectNothingLost(batch)).toEqual([]);
    expect(await queueDepth('dlq')).toBe(0);
  }, 180_000);
});
