/**
 * `POST /prechat/enrich` end to end against the local stack, called as the Genesys Data
 * Action calls it: for a conversation the sandbox Genesys's Messenger simulator started
 * (a guest's first message), with the CRM sandbox (seeded customers, slow and failing
 * answers), the guest participant's attributes read back from `/__sandbox/state`, and the
 * CRM sync queue (the worker is paused so the jobs stay visible). The open-circuit test
 * runs last: the breaker stays open in the warm function for 30 s.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_DEFAULTS } from '#local/stack.ts';
import { addFaults, crmState, genesysState, machineToken, peekMessages, purge, resetSandboxes, setWorkerPaused, stack } from '#test/support/stack.ts';

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

/** The ids the Data Action sends: a conversation and its guest participant. */
interface Ids {
  conversationId: string;
  participantId: string;
}

/** A guest's first message through the Messenger simulator: the conversation the inbound message flow then enriches. */
async function firstMessage(): Promise<Ids> {
  const response = await fetch(`${stack().genesysUrl}/__sandbox/messenger/conversations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customAttributes: { pageCategory: 'billing' } }),
  });
  expect(response.status).toBe(201);
  const started = (await response.json()) as { conversationId: string; customerParticipantId: string };
  return { conversationId: started.conversationId, participantId: started.customerParticipantId };
}

const UNKNOWN_IDS: Ids = { conversationId: '0b7a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d', participantId: '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f' };

const enrich = (body: unknown, bearer: string | null = token) =>
  fetch(`${stack().apiUrl}/prechat/enrich`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify(body),
  });

/** Starts a conversation, then enriches it with the survey answers. */
const enrichNew = async (surveyAnswers: Record<string, string>): Promise<{ ids: Ids; response: Response }> => {
  const ids = await firstMessage();
  return { ids, response: await enrich({ ...ids, surveyAnswers }) };
};

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

/** The guest participant's attributes, as the sandbox Genesys holds them. */
const guestAttributes = async (conversationId: string): Promise<Record<string, string>> =>
  (await genesysState())['conversations'][conversationId]['customer']['attributes'];

const patches = async (): Promise<number> =>
  (await genesysState())['requests'].filter((r: { operation: string }) => r.operation === 'patchConversationParticipantAttributes').length;

/** The CRM sync jobs waiting on the queue (read once: every read counts as a receive). */
const queuedJobs = async (): Promise<Array<Record<string, any>>> =>
  (await peekMessages('queue', 10)).map((message) => JSON.parse(message.Body ?? '{}') as Record<string, any>);

describe('POST /prechat/enrich', () => {
  it('enriches a known customer: CRM wins for the profile, the survey for the chat, routed by tier, written onto the guest participant', async () => {
    // Prepare
    const email = freshEmail();
    await seedCustomer({ id: 'cust-1001', email, firstName: 'Jane', lastName: 'Doe', loyaltyTier: 'platinum', accountStatus: 'active', loyaltyPoints: 4200 });

    // Act
    const { ids, response } = await enrichNew({ email, subject: 'Billing Inquiry', priority: 'high' });

    // Assess: the flat answer the Data Action maps
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'enriched',
      enriched: true,
      conversationId: ids.conversationId,
      routingQueue: 'platinum',
      routingQueueId: QUEUES['platinum'],
      loyaltyTier: 'platinum',
      accountStatus: 'active',
      customerId: 'cust-1001',
      firstName: 'Jane',
      lastName: 'Doe',
      loyaltyPoints: 4200,
    });

    // Assess: the guest participant, with string attributes and no identifier, next to the page's own
    expect(await guestAttributes(ids.conversationId)).toEqual({
      pageCategory: 'billing',
      'prechat:customerId': 'cust-1001',
      'prechat:firstName': 'Jane',
      'prechat:lastName': 'Doe',
      'prechat:loyaltyTier': 'platinum',
      'prechat:accountStatus': 'active',
      'prechat:loyaltyPoints': '4200',
      'prechat:subject': 'Billing Inquiry',
      'prechat:priority': 'high',
      'prechat:enriched': 'true',
      'prechat:routingQueue': 'platinum',
      'prechat:routingQueueId': QUEUES['platinum'],
    });
    expect((await genesysState())['piiFindings']).toEqual([]);

    // Assess: the CRM sync job, keyed by the customer id, carrying the conversation
    const jobs = await queuedJobs();
    expect(jobs).toEqual([
      expect.objectContaining({
        source: 'prechat',
        jobId: expect.stringMatching(/^prechat-[0-9a-f]{32}$/),
        record: expect.objectContaining({
          externalId: 'cust-1001',
          emailHash: expect.stringMatching(/^[0-9a-f]{64}$/),
          channelContext: expect.objectContaining({ channel: 'webmessaging', conversationId: ids.conversationId, participantId: ids.participantId }),
        }),
      }),
    ]);
    expect(JSON.stringify(jobs)).not.toContain(email);
  });

  it('finds a customer by phone and routes gold to the gold queue', async () => {
    // Prepare
    const phone = `+1 415 555 ${String(1000 + Math.floor(Math.random() * 8999))}`;
    await seedCustomer({ id: `cust-${randomUUID().slice(0, 6)}`, phone, loyaltyTier: 'gold' });

    // Act
    const { ids, response } = await enrichNew({ phone });

    // Assess
    expect(await response.json()).toMatchObject({ enriched: true, routingQueue: 'gold', routingQueueId: QUEUES['gold'] });
    expect(JSON.stringify(await guestAttributes(ids.conversationId))).not.toContain(phone.slice(-4));
    expect((await genesysState())['piiFindings']).toEqual([]);
  });

  it('continues unenriched on the standard queue for an unknown guest, with the defaults', async () => {
    // Act
    const { ids, response } = await enrichNew({ email: freshEmail() });

    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'enriched',
      enriched: false,
      conversationId: ids.conversationId,
      routingQueue: 'standard',
      routingQueueId: QUEUES['standard'],
      loyaltyTier: 'standard',
      accountStatus: 'active',
    });
    expect(await guestAttributes(ids.conversationId)).toEqual({
      pageCategory: 'billing',
      'prechat:loyaltyTier': 'standard',
      'prechat:accountStatus': 'active',
      'prechat:subject': 'General Inquiry',
      'prechat:priority': 'normal',
      'prechat:enriched': 'false',
      'prechat:routingQueue': 'standard',
      'prechat:routingQueueId': QUEUES['standard'],
    });
    expect((await queuedJobs())[0]?.['record']['externalId']).toBe(ids.conversationId);
  });

  it('routes an unknown tier to the standard queue', async () => {
    // Prepare
    const email = freshEmail();
    await seedCustomer({ id: 'cust-diamond', email, loyaltyTier: 'Diamond' });

    // Act
    const { response } = await enrichNew({ email });

    // Assess
    expect(await response.json()).toMatchObject({ enriched: true, loyaltyTier: 'diamond', routingQueue: 'standard', routingQueueId: QUEUES['standard'] });
  });

  it('asks the CRM once for a guest who comes back (in-container cache)', async () => {
    // Prepare
    const email = freshEmail();
    await seedCustomer({ id: 'cust-cache', email, loyaltyTier: 'gold' });

    // Act
    await enrichNew({ email });
    const { response: second } = await enrichNew({ email: email.toUpperCase() });

    // Assess
    expect(await second.json()).toMatchObject({ enriched: true, routingQueueId: QUEUES['gold'] });
    expect(await crmLookups()).toBe(1);
  });

  it.each<[string, (ids: Ids) => unknown, string]>([
    ['neither email nor phone', (ids) => ({ ...ids, surveyAnswers: { subject: 'Hello' } }), '/surveyAnswers'],
    ['no participant id', (ids) => ({ conversationId: ids.conversationId, surveyAnswers: { email: 'jane@example.com' } }), '/participantId'],
    ['a conversation id that is not a UUID', (ids) => ({ ...ids, conversationId: 'conv-1', surveyAnswers: { email: 'jane@example.com' } }), '/conversationId'],
    ['an invalid email', (ids) => ({ ...ids, surveyAnswers: { email: 'jane' } }), '/surveyAnswers/email'],
    ['an unknown answer', (ids) => ({ ...ids, surveyAnswers: { email: 'jane@example.com', ssn: '123-45-6789' } }), '/surveyAnswers/ssn'],
    ['the version 1 body (a session token)', () => ({ surveyAnswers: { email: 'jane@example.com' }, sessionToken: 'wm-1' }), '/sessionToken'],
  ])('refuses %s with 400, asks nobody and enqueues nothing', async (_case, body, path) => {
    // Prepare
    const ids = await firstMessage();

    // Act
    const response = await enrich(body(ids));

    // Assess
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { errors: Array<{ path: string }> };
    expect(problem.errors.map((e) => e.path)).toContain(path);
    expect(JSON.stringify(problem)).not.toMatch(/jane@example\.com|123-45-6789/);
    expect(await crmLookups()).toBe(0);
    expect(await patches()).toBe(0);
    expect(await queuedJobs()).toEqual([]);
  });

  it.each([
    ['no token', undefined, 401],
    ['a read-only token', 'read', 403],
  ])('refuses %s before the function runs', async (_case, which, status) => {
    // Prepare
    const bearer = which ? await machineToken('guest-sync/read') : null;
    const ids = await firstMessage();

    // Act
    const response = await enrich({ ...ids, surveyAnswers: { email: freshEmail() } }, bearer);

    // Assess
    expect(response.status).toBe(status);
    expect(await patches()).toBe(0);
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
    const { response } = await enrichNew({ email });

    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ enriched: false, routingQueueId: QUEUES['standard'] });
  });

  it('continues unenriched (200) when the CRM is slower than the 5 s budget', async () => {
    // Prepare
    const email = freshEmail();
    await seedCustomer({ id: 'cust-slow', email, loyaltyTier: 'platinum' });
    await addFaults('crm', [{ operation: 'lookupCustomers', delayMs: 8_000, times: 1 }]);

    // Act
    const { ids, response } = await enrichNew({ email });

    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ enriched: false, routingQueueId: QUEUES['standard'] });
    expect(await guestAttributes(ids.conversationId)).toMatchObject({ 'prechat:enriched': 'false' });
  });

  it('answers 404 for a conversation Genesys does not have, and enqueues nothing', async () => {
    // Act
    const response = await enrich({ ...UNKNOWN_IDS, surveyAnswers: { email: freshEmail() } });

    // Assess
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ status: 404, conversationId: UNKNOWN_IDS.conversationId });
    expect(await queuedJobs()).toEqual([]);
  });

  it.each([
    ['429 (after its retries)', 503, { status: 429, retryAfterSeconds: 1 }],
    ['500 (after its retries)', 502, { status: 500 }],
    ['403', 502, { status: 403 }],
  ])('answers a participant PATCH failing with %s with %i, and enqueues nothing', async (_case, status, fault) => {
    // Prepare
    const ids = await firstMessage();
    await addFaults('genesys', [{ operation: 'patchConversationParticipantAttributes', ...fault }]);

    // Act
    const response = await enrich({ ...ids, surveyAnswers: { email: freshEmail() } });

    // Assess
    expect(response.status).toBe(status);
    if (status === 503) expect(response.headers.get('retry-after')).toBe('1');
    expect(await response.json()).toMatchObject({ status, operation: 'patchParticipantAttributes', conversationId: ids.conversationId });
    expect(await guestAttributes(ids.conversationId)).toEqual({ pageCategory: 'billing' });
    expect(await queuedJobs()).toEqual([]);
  });

  it('opens the circuit after repeated CRM failures: lookups stop, answers stay 200 unenriched', async () => {
    // Prepare: five failing lookups in a row open the breaker.
    await addFaults('crm', [{ operation: 'lookupCustomers', status: 503 }]);
    for (let i = 0; i < 5; i += 1) {
      const { response } = await enrichNew({ email: freshEmail() });
      expect(response.status).toBe(200);
    }
    const lookupsWhenOpened = await crmLookups();
    await fetch(`${stack().crmUrl}/__sandbox/faults`, { method: 'DELETE' });
    const email = freshEmail();
    await seedCustomer({ id: 'cust-behind-breaker', email, loyaltyTier: 'platinum' });

    // Act: the CRM is healthy again, but the circuit is open.
    const { response } = await enrichNew({ email });

    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ enriched: false, routingQueueId: QUEUES['standard'] });
    expect(lookupsWhenOpened).toBe(5);
    expect(await crmLookups()).toBe(5);
  });
});
