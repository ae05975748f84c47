/**
 * `/guests` end to end against the local stack: the HTTP API with its machine JWT
 * authorizer, the functions, the sandbox Genesys (version 2, with the guest set-up seeded:
 * guests are external contacts), the state table (per-guest write leases), analytics for
 * the metrics, the audit query, and the CRM sync queue (the worker is paused so the jobs
 * stay visible).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoStateTable } from '#lib/state';
import { localDynamoDbClient } from '#local/dynamodb.ts';
import { addFaults, genesysState, machineToken, peekMessages, purge, resetSandboxes, setWorkerPaused, stack } from '#test/support/stack.ts';

const run = promisify(execFile);
const UNKNOWN_GUEST = '0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d';
const consent = { marketing: false, dataProcessing: true };
const STRONG_ETAG = /^"[A-Za-z0-9_-]{27}"$/;

let writeToken: string;
let readToken: string;

/**
 * Pauses the worker and waits out a batch it may be gathering (its batching window is
 * 5 s), so what the routes enqueue afterwards stays on the queue to be read.
 */
async function pauseWorker(): Promise<void> {
  await setWorkerPaused(true);
  await new Promise((done) => setTimeout(done, 6_500));
}

beforeAll(async () => {
  writeToken = await machineToken('guest-sync/write');
  readToken = await machineToken('guest-sync/read');
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

const api = (path: string, init: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
  fetch(`${stack().apiUrl}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...init.headers,
    },
    ...(init.body === undefined ? {} : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
  });

const createGuest = async (body: unknown = { consent, attributes: { tier: 'gold', agentNote: 'none' } }) => {
  const response = await api('/guests', { method: 'POST', token: writeToken, body });
  expect(response.status).toBe(201);
  return { guest: (await response.json()) as Record<string, any>, etag: response.headers.get('etag') as string };
};

/** The external contacts the sandbox Genesys holds, by id. */
const contacts = async (): Promise<Record<string, Record<string, any>>> => (await genesysState())['externalContacts'];

/** The CRM sync jobs waiting on the queue (read once: every read counts as a receive). */
const queuedJobs = async (): Promise<Array<Record<string, any>>> =>
  (await peekMessages('queue', 10)).map((message) => JSON.parse(message.Body ?? '{}') as Record<string, any>);

/** Sandbox control call; the parsed answer. */
const sandbox = async <T = Record<string, any>>(path: string, body: unknown = {}): Promise<T> => {
  const response = await fetch(`${stack().genesysUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(response.status).toBeLessThan(300);
  return (await response.json()) as T;
};

/** Another writer (an agent, another integration) changes the contact in Genesys. */
const touch = (guestId: string, changes: Record<string, unknown>) => sandbox(`/__sandbox/externalcontacts/contacts/${guestId}/touch`, changes);

const guestOperations = async (operation: string): Promise<number> =>
  (await genesysState())['requests'].filter((r: { operation: string }) => r.operation === operation).length;

describe('POST /guests', () => {
  it('creates an external contact with hashed identity only, answers 201 with a strong ETag, and enqueues one guest job', async () => {
    // Act
    const response = await api('/guests', {
      method: 'POST',
      token: writeToken,
      body: {
        email: 'Jane.Doe@Example.com',
        phone: '+1 (555) 123-4567',
        consent,
        channelContext: { originPage: 'https://www.example.com/support?ref=mail', campaignId: 'WINTER-2024' },
        attributes: { source: 'website', loyaltyTier: 'gold' },
      },
    });

    // Assess: the answer
    expect(response.status).toBe(201);
    const guest = (await response.json()) as Record<string, any>;
    expect(response.headers.get('etag')).toMatch(STRONG_ETAG);
    expect(response.headers.get('location')).toBe(`/guests/${guest['id']}`);
    expect(guest).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      consent,
      identityAttributes: { emailHash: expect.stringMatching(/^[0-9a-f]{64}$/), phoneHash: expect.stringMatching(/^[0-9a-f]{64}$/) },
      channelContext: { originPage: 'https://www.example.com/support', campaignId: 'WINTER-2024' },
      attributes: { source: 'website', loyaltyTier: 'gold' },
      createdDate: expect.any(String),
      modifiedDate: expect.any(String),
    });

    // Assess: Genesys holds one contact, no plaintext identifier, no name, email or phone field
    const state = await genesysState();
    const contact = state['externalContacts'][guest['id']];
    expect(Object.keys(state['externalContacts'])).toEqual([guest['id']]);
    expect(JSON.stringify(contact)).not.toMatch(/jane|support\?ref|123-4567|5551234567/i);
    expect(Object.keys(contact).filter((key) => /name|email|phone/i.test(key))).toEqual([]);
    expect(state['piiFindings']).toEqual([]);

    // Assess: one CRM sync job for the guest, without plaintext identifiers
    const jobs = await queuedJobs();
    expect(jobs).toEqual([
      expect.objectContaining({
        v: 1,
        kind: 'crm.upsert',
        source: 'guest',
        jobId: expect.stringMatching(/^guest-[0-9a-f]{32}$/),
        record: expect.objectContaining({ externalId: guest['id'], emailHash: guest['identityAttributes']['emailHash'], consentFlags: consent }),
      }),
    ]);
    expect(JSON.stringify(jobs)).not.toMatch(/jane|555-?123/i);
  });

  it('masks identifiers that slip into attribute values', async () => {
    // Act
    const { guest } = await createGuest({ consent, attributes: { note: 'reach me at jane@example.com' } });

    // Assess
    expect(guest['attributes']).toEqual({ note: 'reach me at ****************' });
    expect((await genesysState())['piiFindings']).toEqual([]);
  });

  it('leaves one contact when Genesys committed the create but the answer was lost', async () => {
    // Prepare
    await addFaults('genesys', [{ operation: 'postExternalcontactsContacts', times: 1, delayAfterCommitMs: 0, dropConnection: true }]);

    // Act
    const { guest } = await createGuest({ consent });

    // Assess
    expect(Object.keys(await contacts())).toEqual([guest['id']]);
    expect(await queuedJobs()).toHaveLength(1);
  });

  describe.each([
    ['an unknown property', { consent, name: 'Jane' }, ['/name']],
    ['missing consent', { email: 'jane@example.com' }, ['/consent']],
    ['a consent flag that is not a boolean', { consent: { marketing: 'no', dataProcessing: true } }, ['/consent/marketing']],
    ['a raw email inside identityAttributes', { consent, identityAttributes: { email: 'jane@example.com' } }, ['/identityAttributes/email']],
    ['a hash that is not 64 hex', { consent, identityAttributes: { emailHash: 'abc' } }, ['/identityAttributes/emailHash']],
    ['a bad origin page and campaign', { consent, channelContext: { originPage: 'not a uri', campaignId: 'lower' } }, ['/channelContext/campaignId', '/channelContext/originPage']],
    ['an origin page the contact schema cannot hold (over 200 characters without its query)', { consent, channelContext: { originPage: `https://example.com/${'p'.repeat(200)}` } }, ['/channelContext/originPage']],
    ['a nested attribute', { consent, attributes: { profile: { tier: 'gold' } } }, ['/attributes/profile']],
  ])('refuses %s with 400 and creates nothing', (_case, body, paths) => {
    it('names each failing path', async () => {
      // Act
      const response = await api('/guests', { method: 'POST', token: writeToken, body });

      // Assess
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      const problem = (await response.json()) as { errors: Array<{ path: string }> };
      expect([...new Set(problem.errors.map((e) => e.path))].sort()).toEqual(paths);
      expect(JSON.stringify(problem)).not.toContain('jane@example.com');
      expect(Object.keys(await contacts())).toHaveLength(0);
    });
  });

  it('refuses malformed JSON with 400', async () => {
    // Act
    const response = await api('/guests', { method: 'POST', token: writeToken, body: '{"consent":' });

    // Assess
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ type: expect.stringContaining('malformed-json') });
  });

  it.each([
    ['no token', undefined, 401],
    ['a read-only token', 'read', 403],
  ])('refuses %s before the function runs', async (_case, which, status) => {
    // Act
    const response = await api('/guests', { method: 'POST', ...(which ? { token: readToken } : {}), body: { consent } });

    // Assess
    expect(response.status).toBe(status);
    expect(Object.keys(await contacts())).toHaveLength(0);
  });

  it.each([
    ['429 (after its retries)', 503, { status: 429, retryAfterSeconds: 1 }],
    ['400', 502, { status: 400 }],
  ])('maps a Genesys %s on the create to %i and enqueues nothing', async (_case, status, fault) => {
    // Prepare
    await addFaults('genesys', [{ operation: 'postExternalcontactsContacts', ...fault }]);

    // Act
    const response = await api('/guests', { method: 'POST', token: writeToken, body: { consent } });

    // Assess
    expect(response.status).toBe(status);
    if (status === 503) expect(response.headers.get('retry-after')).toBe('1');
    expect(await response.json()).toMatchObject({ status, operation: 'createExternalContact' });
    expect(await queuedJobs()).toEqual([]);
  });
});

describe('GET /guests/{guestId}', () => {
  it('reads back a created guest with the same ETag', async () => {
    // Prepare
    const { guest, etag } = await createGuest();

    // Act
    const response = await api(`/guests/${guest['id']}`, { token: readToken });

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBe(etag);
    expect(await response.json()).toEqual(guest);
  });

  it('shows a change another writer made in Genesys, with a new ETag', async () => {
    // Prepare
    const { guest, etag } = await createGuest();
    await touch(guest['id'], { customFields: { campaignId_identifier: 'AGENT-SET' } });

    // Act
    const response = await api(`/guests/${guest['id']}`, { token: readToken });

    // Assess
    expect(response.headers.get('etag')).not.toBe(etag);
    expect(await response.json()).toMatchObject({ channelContext: { campaignId: 'AGENT-SET' } });
  });
});

describe('PATCH /guests/{guestId}', () => {
  it('updates at the given version: 200, a new ETag, conflictsResolved 0, one guest job', async () => {
    // Prepare
    const { guest, etag } = await createGuest();
    await purge('queue');

    // Act
    const response = await api(`/guests/${guest['id']}`, {
      method: 'PATCH',
      token: writeToken,
      headers: { 'if-match': etag },
      body: { consent: { marketing: true }, attributes: { tier: 'platinum' } },
    });

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toMatch(STRONG_ETAG);
    expect(response.headers.get('etag')).not.toBe(etag);
    expect(await response.json()).toMatchObject({
      id: guest['id'],
      conflictsResolved: 0,
      consent: { marketing: true, dataProcessing: true },
      attributes: { tier: 'platinum', agentNote: 'none' },
    });
    const jobs = await queuedJobs();
    expect(jobs).toEqual([expect.objectContaining({ source: 'guest', record: expect.objectContaining({ externalId: guest['id'], attributes: { tier: 'platinum', agentNote: 'none' } }) })]);
    expect(await guestOperations('putExternalcontactsContact')).toBe(1);
  });

  it('merges when another writer changed the guest since the caller read it: both changes survive', async () => {
    // Prepare: the caller read the guest; then another writer changed the campaign and a consent flag.
    const { guest, etag } = await createGuest({ consent, channelContext: { campaignId: 'OLD' }, attributes: { tier: 'gold' } });
    await touch(guest['id'], { customFields: { campaignId_identifier: 'AGENT-SET', dataProcessingConsent_checkbox: false } });

    // Act: the caller changes tier and marketing consent, with its stale ETag.
    const response = await api(`/guests/${guest['id']}`, {
      method: 'PATCH',
      token: writeToken,
      headers: { 'if-match': etag },
      body: { consent: { marketing: true }, attributes: { tier: 'platinum' } },
    });

    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      conflictsResolved: 1,
      consent: { marketing: true, dataProcessing: false },
      channelContext: { campaignId: 'AGENT-SET' },
      attributes: { tier: 'platinum' },
    });
  });

  it('serialises concurrent suite writers on the guest\'s lease: every change lands', async () => {
    // Prepare
    const { guest, etag } = await createGuest({ consent, attributes: { tier: 'gold' } });

    // Act: five writers, all with the same If-Match, each changing its own attribute.
    const responses = await Promise.all(
      [1, 2, 3, 4, 5].map((n) =>
        api(`/guests/${guest['id']}`, { method: 'PATCH', token: writeToken, headers: { 'if-match': etag }, body: { attributes: { [`writer${n}`]: n } } }),
      ),
    );

    // Assess
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const reads = await api(`/guests/${guest['id']}`, { token: readToken });
    expect(((await reads.json()) as Record<string, unknown>)['attributes']).toEqual({ tier: 'gold', writer1: 1, writer2: 2, writer3: 3, writer4: 4, writer5: 5 });
  });

  it('answers 409 naming the fields when another request holds the guest\'s lease, and changes and enqueues nothing', async () => {
    // Prepare: another request holds the lease (as a writer in the middle of its update would).
    const { guest, etag } = await createGuest();
    await purge('queue');
    const table = new DynamoStateTable({ tableName: stack().stateTableName, client: localDynamoDbClient(stack().dynamodbEndpoint) });
    await table.put({ pk: `lease#guest#${guest['id']}`, owner: 'another-request', leaseUntilMs: Date.now() + 60_000 });

    try {
      // Act
      const response = await api(`/guests/${guest['id']}`, { method: 'PATCH', token: writeToken, headers: { 'if-match': etag }, body: { attributes: { tier: 'silver' } } });

      // Assess
      expect(response.status).toBe(409);
      const problem = (await response.json()) as Record<string, any>;
      expect(problem).toMatchObject({ status: 409, type: expect.stringContaining('conflict'), guestId: guest['id'], conflictingFields: ['attributes.tier'] });
      expect(problem['detail']).toContain('attributes.tier');
      expect(await guestOperations('putExternalcontactsContact')).toBe(0);
      expect(await queuedJobs()).toEqual([]);
    } finally {
      await table.delete(`lease#guest#${guest['id']}`);
    }
  });

  it('requires If-Match: 428, nothing sent to Genesys', async () => {
    // Prepare
    const { guest } = await createGuest();

    // Act
    const response = await api(`/guests/${guest['id']}`, { method: 'PATCH', token: writeToken, body: { attributes: { tier: 'silver' } } });

    // Assess
    expect(response.status).toBe(428);
    expect(await response.json()).toMatchObject({ status: 428, type: expect.stringContaining('precondition-required') });
    expect(await guestOperations('putExternalcontactsContact')).toBe(0);
  });

  it.each([
    ['an empty body', {}],
    ['an unknown property', { id: 'x' }],
    ['a campaign in lower case', { channelContext: { campaignId: 'spring' } }],
  ])('refuses %s with 400', async (_case, body) => {
    // Act
    const response = await api(`/guests/${UNKNOWN_GUEST}`, { method: 'PATCH', token: writeToken, headers: { 'if-match': '"1"' }, body });

    // Assess
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ errors: expect.arrayContaining([expect.objectContaining({ path: expect.any(String) })]) });
  });

  it.each([
    ['an unknown guest', 404, UNKNOWN_GUEST, []],
    ['a guest id that is not a UUID', 400, 'not-a-uuid', []],
    ['a throttled read (429 after retries)', 503, 'created', [{ operation: 'getExternalcontactsContact', status: 429, retryAfterSeconds: 1 }]],
    ['a failing write (500 after retries)', 502, 'created', [{ operation: 'putExternalcontactsContact', status: 500 }]],
  ])('answers %s with %i', async (_case, status, which, faults) => {
    // Prepare
    const id = which === 'created' ? (await createGuest()).guest['id'] : which;
    await purge('queue');
    if (faults.length > 0) await addFaults('genesys', faults);

    // Act
    const response = await api(`/guests/${id}`, { method: 'PATCH', token: writeToken, headers: { 'if-match': '"1"' }, body: { attributes: { tier: 'x' } } });

    // Assess
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(await queuedJobs()).toEqual([]);
  });

  it('refuses a read-only token with 403', async () => {
    // Act
    const response = await api(`/guests/${UNKNOWN_GUEST}`, { method: 'PATCH', token: readToken, headers: { 'if-match': '"1"' }, body: { attributes: { a: 1 } } });

    // Assess
    expect(response.status).toBe(403);
  });
});

describe('GET /guests/{guestId}/metrics', () => {
  it('answers the engagement of the guest\'s conversations from analytics', async () => {
    // Prepare: two conversations of the guest through the Messenger simulator (2 and 1 guest messages), one ended.
    const { guest } = await createGuest({ consent, attributes: { converted: 'true' } });
    const first = await sandbox<{ conversationId: string }>('/__sandbox/messenger/conversations', { externalContactId: guest['id'] });
    await sandbox(`/__sandbox/messenger/conversations/${first.conversationId}/messages`);
    await sandbox(`/__sandbox/messenger/conversations/${first.conversationId}/end`);
    await sandbox('/__sandbox/messenger/conversations', { externalContactId: guest['id'] });
    await sandbox('/__sandbox/messenger/conversations', { externalContactId: UNKNOWN_GUEST });

    // Act
    const response = await api(`/guests/${guest['id']}/metrics`, { token: readToken });

    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      guestId: guest['id'],
      conversationCount: 2,
      durationMinutes: expect.any(Number),
      messageCount: 3,
      avgResponseTimeMs: null,
      conversionFlag: true,
      calculatedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    });
  });

  it('answers zeros for a guest with no conversations', async () => {
    // Prepare
    const { guest } = await createGuest();

    // Act
    const response = await api(`/guests/${guest['id']}/metrics`, { token: readToken });

    // Assess
    expect(await response.json()).toMatchObject({ conversationCount: 0, durationMinutes: 0, messageCount: 0, avgResponseTimeMs: null, conversionFlag: false });
  });

  it.each([
    ['an unknown guest', 404, UNKNOWN_GUEST],
    ['a guest id that is not a UUID', 400, 'abc'],
  ])('answers %s with %i', async (_case, status, id) => {
    expect((await api(`/guests/${id}/metrics`, { token: readToken })).status).toBe(status);
  });

  it('refuses a write-only token with 403', async () => {
    expect((await api(`/guests/${UNKNOWN_GUEST}/metrics`, { token: writeToken })).status).toBe(403);
  });
});

describe('npm run audit', () => {
  const root = resolve(import.meta.dirname, '../..');
  const tsx = join(root, 'node_modules', '.bin', 'tsx');
  const script = join(root, 'scripts', 'audit.ts');
  const window = (): string[] => ['--from', new Date(Date.now() - 3_600_000).toISOString(), '--to', new Date(Date.now() + 60_000).toISOString()];
  const cloudEnv = () => ({
    ...process.env,
    GENESYS_API_BASE_URL: stack().genesysUrl,
    GENESYS_LOGIN_BASE_URL: stack().genesysUrl,
    GENESYS_CLIENT_ID: 'local-genesys-client',
    GENESYS_CLIENT_SECRET: 'local-genesys-client-secret',
  });

  /** Audit entries about `entityId` under `serviceName`, as Genesys would have recorded them. */
  const recorded = (serviceName: string, entityId: string, actions: string[]) =>
    sandbox('/__sandbox/audits', {
      entries: actions.map((action) => ({ serviceName, entityType: 'ExternalContact', action, entity: { id: entityId }, propertyChanges: [{ property: 'customFields', oldValues: [], newValues: ['x'] }] })),
    });

  it('prints the guest\'s audit trail of a service the organisation offers, through the audit query API (cloud path)', async () => {
    // Prepare
    const { guest } = await createGuest();
    await recorded('Integrations', guest['id'], ['Create', 'Update', 'Update']);
    await recorded('Integrations', UNKNOWN_GUEST, ['Create']);
    await sandbox('/__sandbox/config', { auditPendingPolls: 2 });

    // Act
    const { stdout } = await run(tsx, [script, '--guest', guest['id'], ...window(), '--json', '--service', 'Integrations', '--stage', 'integration'], {
      cwd: root,
      env: cloudEnv(),
      timeout: 60_000,
    });

    // Assess
    const entries = JSON.parse(stdout) as Array<Record<string, any>>;
    expect(entries.map((e) => e['action'])).toEqual(['Create', 'Update', 'Update']);
    expect(entries.every((e) => e['entity']['id'] === guest['id'])).toBe(true);
    expect((await genesysState())['auditQueries']).toEqual([expect.objectContaining({ serviceName: 'Integrations', state: 'Succeeded', polls: 2, resultCount: 3 })]);
  });

  it.each([
    ['the default ExternalContacts, which the sandbox organisation does not offer', []],
    ['"Conversations", which is no audit service', ['--service', 'Conversations']],
  ])('stops with exit 1 for %s, listing the services offered, and submits no query', async (_case, args) => {
    // Act
    const failure = (await run(tsx, [script, '--guest', UNKNOWN_GUEST, ...window(), ...args, '--stage', 'integration'], { cwd: root, env: cloudEnv(), timeout: 60_000 }).catch(
      (e: unknown) => e,
    )) as { code: number; stderr: string };

    // Assess
    expect(failure.code).toBe(1);
    expect(failure.stderr).toMatch(/^audit: .*does not offer .*Integrations/);
    expect(await guestOperations('postAuditsQuery')).toBe(0);
  });

  it('reads a running local stack from .local/stack.json and prints a table', async () => {
    // Prepare: a folder with the stack file, as `npm start` writes it.
    const { guest } = await createGuest();
    await recorded('Integrations', guest['id'], ['Create']);
    const cwd = await mkdtemp(join(os.tmpdir(), 'audit-local-'));
    await mkdir(join(cwd, '.local'));
    await writeFile(join(cwd, '.local', 'stack.json'), JSON.stringify(stack()));

    try {
      // Act
      const { stdout } = await run(tsx, [script, '--guest', guest['id'], ...window(), '--service', 'Integrations'], { cwd, env: process.env, timeout: 60_000 });

      // Assess
      const lines = stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^date\s+action\s+entity\s+actor\s+changed properties$/);
      expect(lines).toHaveLength(3);
      expect(lines[2]).toContain(`ExternalContact ${guest['id']}`);
      expect(lines[2]).toContain('Create');
      expect(lines[2]).toContain('customFields');
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  it.each([
    ['no guest', ['--from', '2025-01-01T00:00:00Z', '--to', '2025-01-02T00:00:00Z']],
    ['a bad date', ['--guest', 'g', '--from', 'yesterday', '--to', '2025-01-02T00:00:00Z']],
    ['an empty interval', ['--guest', 'g', '--from', '2025-01-02T00:00:00Z', '--to', '2025-01-01T00:00:00Z']],
  ])('exits 2 with usage for %s', async (_case, args) => {
    // Act
    const failure = (await run(tsx, [script, ...args], { cwd: root, timeout: 30_000 }).catch((e: unknown) => e)) as { code: number; stderr: string };

    // Assess
    expect(failure.code).toBe(2);
    expect(failure.stderr).toMatch(/^audit: /);
  });
});
