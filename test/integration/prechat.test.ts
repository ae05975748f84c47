/**
 * `POST /prechat/enrich` end to end against the local stack: the CRM sandbox (seeded
 * customers, slow and failing answers), the Genesys sandbox (conversations and contact
 * attributes) and the CRM sync queue (the worker is paused so the jobs stay visible).
 * The open-circuit test runs last: the breaker stays open in the warm function for 30 s.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_DEFAULTS } from '../../local/stack.ts';
import { addFaults, crmState, genesysState, machineToken, peekMessages, purge, resetSandboxes, setWorkerPaused, stack } from '../support/stack.ts';

const QUEUES = JSON.parse(process.env['ROUTING_QUEUES'] ?? (LOCAL_DEFAULTS['ROUTING_QUEUES'] as string)) as Record<string, string>;

let token: string;
/**
 * Pauses the worker and waits out a batch it may be gathering (its batching window is
 * 5 s), so what the routes enqueue afterwards stays on the queue to be read.
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
  await purge('queue');
});

/** A fresh address per test: the function caches CRM answers for a minute. */
const freshEmail = (): string => `guest-${randomUUID().slice(0, 8)}@example.com`;

const enrich = (body: unknown, bearer: string | null = token) =>
  fetch(`${stack().apiUrl}/prechat/enrich`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify(body),
  });

const seedCustomer = async (customer: Record<string, unknown>): Promise<void> => {
  const response = await fetch(`${stack().crmUrl}/__sandbox/customers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customers: [customer] }),
  });
  expect(response.status).toBe(201);
};

const crmLookups = async (): Promise<number> =>
  (await crmState())['requests'].filter((r: { operation: string }) => r.operation === 'lookupCustomers').length;

const conversations = async (): Promise<Record<string, any>> => (await genesysState())['conversations'];

/** The CRM sync jobs waiting on the queue (read once: every read counts as a receive). */
const queuedJobs = async (): Promise<Array<Record<string, any>>> =>
  (await peekMessages('queue', 10)).map((message) => JSON.parse(message.Body ?? '{}') as Record<string, any>);

describe('POST /prechat/enrich', () => {
  it('enriches a known customer: CRM wins for the profile, the survey for the chat, routed by tier', async () => {
    // Prepare
    const email = freshEmail();
    await seedCustomer({ id: 'cust-1001', email, firstName: 'Jane', lastName: 'Doe', loyaltyTier: 'platinum', accountStatus: 'active', loyaltyPoints: 4200 });

    // Act
    const response = await enrich({ surveyAnswers: { email, subject: 'Billing Inquiry', priority: 'high' }, sessionToken: 'wm-session-abc123xyz' });

    // Assess: the answer
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, any>;
    expect(body).toEqual({ status: 'enriched', enriched: true, conversationId: expect.any(String), routingQueue: QUEUES['platinum'] });

    // Assess: the conversation, routed and with flat, identifier-free contact attributes
    const conversation = (await conversations())[body['conversationId']];
    expect(conversation['routing']).toEqual({ queueId: QUEUES['platinum'] });
    expect(conversation['contact']['attributes']).toEqual({
      customerId: 'cust-1001',
      firstName: 'Jane',
      lastName: 'Doe',
      loyaltyTier: 'platinum',
      accountStatus: 'active',
      loyaltyPoints: 4200,
      preChatSubject: 'Billing Inquiry',
      preChatPriority: 'high',
      enriched: true,
      identityResolution: 'email',
    });
    expect(conversation['contactUpdates']).toBe(1);
    expect((await genesysState())['piiFindings']).toEqual([]);

    // Assess: the CRM sync job, keyed by the customer id, carrying the session context
    const jobs = await queuedJobs();
    expect(jobs).toEqual([
      expect.objectContaining({
        source: 'prechat',
        jobId: expect.stringMatching(/^prechat-[0-9a-f]{32}$/),
        record: expect.objectContaining({
          externalId: 'cust-1001',
          emailHash: expect.stringMatching(/^[0-9a-f]{64}$/),
          channelContext: expect.objectContaining({ channel: 'webmessaging', conversationId: body['conversationId'], sessionRef: expect.stringMatching(/^[0-9a-f]{32}$/) }),
        }),
      }),
    ]);
    expect(JSON.stringify(jobs)).not.toContain(email);
    expect(JSON.stringify(jobs)).not.toContain('wm-session-abc123xyz');
  });

  it('finds a customer by phone and routes gold to the gold queue', async () => {
    // Prepare
    const phone = `+1 415 555 ${String(1000 + Math.floor(Math.random() * 8999))}`;
    await seedCustomer({ id: `cust-${randomUUID().slice(0, 6)}`, phone, loyaltyTier: 'gold' });

    // Act
    const response = await enrich({ surveyAnswers: { phone }, sessionToken: 'wm-1' });

    // Assess
    expect(await response.json()).toMatchObject({ enriched: true, routingQueue: QUEUES['gold'] });
  });

  it('continues unenriched on the standard queue for an unknown guest, with the defaults', async () => {
    // Act
    const response = await enrich({ surveyAnswers: { email: freshEmail() }, sessionToken: 'wm-1' });

    // Assess
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, any>;
    expect(body).toMatchObject({ status: 'enriched', enriched: false, routingQueue: QUEUES['standard'] });
    expect((await conversations())[body['conversationId']]['contact']['attributes']).toEqual({
      loyaltyTier: 'standard',
      accountStatus: 'active',
      preChatSubject: 'General Inquiry',
      preChatPriority: 'normal',
      enriched: false,
      identityResolution: 'email',
    });
    expect((await queuedJobs())[0]?.['record']['externalId']).toBe(body['conversationId']);
  });

  it('routes an unknown tier to the standard queue', async () => {
    // Prepare
    const email = freshEmail();
    await seedCustomer({ id: 'cust-diamond', email, loyaltyTier: 'Diamond' });

    // Act
    const response = await enrich({ surveyAnswers: { email }, sessionToken: 'wm-1' });

    // Assess
    expect(await response.json()).toMatchObject({ enriched: true, routingQueue: QUEUES['standard'] });
  });

  it('asks the CRM once for a guest who submits twice (in-container cache)', async () => {
    // Prepare
    const email = freshEmail();
    await seedCustomer({ id: 'cust-cache', email, loyaltyTier: 'gold' });

    // Act
    await enrich({ surveyAnswers: { email }, sessionToken: 'wm-1' });
    const second = await enrich({ surveyAnswers: { email: email.toUpperCase() }, sessionToken: 'wm-2' });

    // Assess
    expect(await second.json()).toMatchObject({ enriched: true, routingQueue: QUEUES['gold'] });
    expect(await crmLookups()).toBe(1);
  });

  it.each([
    ['neither email nor phone', { surveyAnswers: { subject: 'Hello' }, sessionToken: 'wm-1' }, '/surveyAnswers'],
    ['no session token', { surveyAnswers: { email: 'jane@example.com' } }, '/sessionToken'],
    ['an invalid email', { surveyAnswers: { email: 'jane' }, sessionToken: 'wm-1' }, '/surveyAnswers/email'],
    ['an unknown answer', { surveyAnswers: { email: 'jane@example.com', ssn: '123-45-6789' }, sessionToken: 'wm-1' }, '/surveyAnswers/ssn'],
  ])('refuses %s with 400, asks nobody and enqueues nothing', async (_case, body, path) => {
    // Act
    const response = await enrich(body);

    // Assess
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { errors: Array<{ path: string }> };
    expect(problem.errors.map((e) => e.path)).toContain(path);
    expect(JSON.stringify(problem)).not.toMatch(/jane@example\.com|123-45-6789/);
    expect(await crmLookups()).toBe(0);
    expect(await conversations()).toEqual({});
    expect(await queuedJobs()).toEqual([]);
  });

  it.each([
    ['no token', undefined, 401],
    ['a read-only token', 'read', 403],
  ])('refuses %s before the function runs', async (_case, which, status) => {
    // Prepare
    const bearer = which ? await machineToken('guest-sync/read') : null;

    // Act
    const response = await enrich({ surveyAnswers: { email: freshEmail() }, sessionToken: 'wm-1' }, bearer);

    // Assess
    expect(response.status).toBe(status);
    expect(await conversations()).toEqual({});
  });

  it.each([
    ['answers 500', { status: 500 }],
    ['answers 429', { status: 429, retryAfterSeconds: 1 }],
    ['drops the connection', { dropConnection: true }],
  ])('continues unenriched (200) when the CRM %s', async (_case, fault) => {
    // Prepare
    const email = freshEmail();
    await seedCustomer({ id: 'cust-hidden', email, loyaltyTier: 'platinum' });
    await addFaults('crm', [{ operation: 'lookupCustomers', times: 1, ...fault }]);

    // Act
    const response = await enrich({ surveyAnswers: { email }, sessionToken: 'wm-1' });

    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ enriched: false, routingQueue: QUEUES['standard'] });
  });

  it('continues unenriched (200) when the CRM is slower than the 5 s budget', async () => {
    // Prepare
    const email = freshEmail();
    await seedCustomer({ id: 'cust-slow', email, loyaltyTier: 'platinum' });
    await addFaults('crm', [{ operation: 'lookupCustomers', delayMs: 8_000, times: 1 }]);

    // Act
    const response = await enrich({ surveyAnswers: { email }, sessionToken: 'wm-1' });

    // Assess
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, any>;
    expect(body).toMatchObject({ enriched: false, routingQueue: QUEUES['standard'] });
    expect((await conversations())[body['conversationId']]['contact']['attributes']).toMatchObject({ enriched: false });
  });

  it.each([
    ['429 (after its retries)', 503, { status: 429, retryAfterSeconds: 1 }],
    ['500 (after its retries)', 502, { status: 500 }],
  ])('answers a conversation creation failing with %s with %i, and enqueues nothing', async (_case, status, fault) => {
    // Prepare
    await addFaults('genesys', [{ operation: 'createConversation', ...fault }]);

    // Act
    const response = await enrich({ surveyAnswers: { email: freshEmail() }, sessionToken: 'wm-1' });

    // Assess
    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject({ status, operation: 'createConversation' });
    expect(await conversations()).toEqual({});
    expect(await queuedJobs()).toEqual([]);
  });

  it('says so (502 with the conversation id) when the contact update fails after the conversation was created', async () => {
    // Prepare
    await addFaults('genesys', [{ operation: 'updateContact', status: 500 }]);

    // Act
    const response = await enrich({ surveyAnswers: { email: freshEmail() }, sessionToken: 'wm-1' });

    // Assess
    expect(response.status).toBe(502);
    const problem = (await response.json()) as Record<string, any>;
    const [conversationId] = Object.keys(await conversations());
    expect(problem).toMatchObject({ status: 502, conversationId, contactUpdated: false, operation: 'updateContact', upstreamStatus: 500 });
    expect(problem['detail']).toContain(conversationId);
    expect(await queuedJobs()).toEqual([]);
  });

  it('opens the circuit after repeated CRM failures: lookups stop, answers stay 200 unenriched', async () => {
    // Prepare: five failing lookups in a row open the breaker.
    await addFaults('crm', [{ operation: 'lookupCustomers', status: 503 }]);
    for (let i = 0; i < 5; i += 1) {
      const response = await enrich({ surveyAnswers: { email: freshEmail() }, sessionToken: 'wm-1' });
      expect(response.status).toBe(200);
    }
    const lookupsWhenOpened = await crmLookups();
    await fetch(`${stack().crmUrl}/__sandbox/faults`, { method: 'DELETE' });
    const email = freshEmail();
    await seedCustomer({ id: 'cust-behind-breaker', email, loyaltyTier: 'platinum' });

    // Act: the CRM is healthy again, but the circuit is open.
    const response = await enrich({ surveyAnswers: { email }, sessionToken: 'wm-1' });

    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ enriched: false, routingQueue: QUEUES['standard'] });
    expect(lookupsWhenOpened).toBe(5);
    expect(await crmLookups()).toBe(5);
  });
});
