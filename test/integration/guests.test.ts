/**
 * `/guests` end to end against the local stack: the HTTP API with its machine JWT
 * authorizer, the functions, the Genesys sandbox (guests, ETags, 412, audit queries) and
 * the CRM sync queue (the worker is paused so the jobs stay visible).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { addFaults, genesysState, machineToken, peekMessages, purge, resetSandboxes, setWorkerPaused, stack } from '../support/stack.ts';

const run = promisify(execFile);
const UNKNOWN_GUEST = '0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d';
const consent = { marketing: false, dataProcessing: true };

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

/** The CRM sync jobs waiting on the queue (read once: every read counts as a receive). */
const queuedJobs = async (): Promise<Array<Record<string, any>>> =>
  (await peekMessages('queue', 10)).map((message) => JSON.parse(message.Body ?? '{}') as Record<string, any>);

const touch = async (guestId: string, changes: Record<string, unknown>): Promise<void> => {
  const response = await fetch(`${stack().genesysUrl}/__sandbox/guests/${guestId}/touch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(changes),
  });
  expect(response.status).toBe(200);
};

describe('POST /guests', () => {
  it('creates the guest with hashed identity only, answers 201 with its ETag, and enqueues one guest job', async () => {
    // Act
    const response = await api('/guests', {
      method: 'POST',
      token: writeToken,
      body: {
        email: 'Jane.Doe@Example.com',
        phone: '+1 (555) 123-4567',
        consent,
        channelContext: { originPage: 'https://www.example.com/support?ref=mail', campaignId: 'WINTER-2024' },
        identityAttributes: { deviceFingerprint: 'fp-0a1b2c' },
        attributes: { source: 'website', loyaltyTier: 'gold' },
      },
    });

    // Assess: the answer
    expect(response.status).toBe(201);
    const guest = (await response.json()) as Record<string, any>;
    expect(response.headers.get('etag')).toBe('"1"');
    expect(response.headers.get('location')).toBe(`/guests/${guest['id']}`);
    expect(guest).toMatchObject({
      consent,
      identityAttributes: { emailHash: expect.stringMatching(/^[0-9a-f]{64}$/), phoneHash: expect.stringMatching(/^[0-9a-f]{64}$/), deviceFingerprint: 'fp-0a1b2c' },
      channelContext: { originPage: 'https://www.example.com/support', campaignId: 'WINTER-2024' },
      attributes: { source: 'website', loyaltyTier: 'gold' },
    });

    // Assess: Genesys holds no plaintext identifier, and audited the creation
    const state = await genesysState();
    expect(JSON.stringify(state['guests'][guest['id']])).not.toMatch(/jane|support\?ref|123-4567|5551234567/i);
    expect(state['piiFindings']).toEqual([]);
    expect(state['audits']).toEqual([expect.objectContaining({ action: 'Create', entity: { id: guest['id'], type: 'Guest' } })]);

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

  describe.each([
    ['an unknown property', { consent, name: 'Jane' }, ['/name']],
    ['missing consent', { email: 'jane@example.com' }, ['/consent']],
    ['a consent flag that is not a boolean', { consent: { marketing: 'no', dataProcessing: true } }, ['/consent/marketing']],
    ['a raw email inside identityAttributes', { consent, identityAttributes: { email: 'jane@example.com' } }, ['/identityAttributes/email']],
    ['a hash that is not 64 hex', { consent, identityAttributes: { emailHash: 'abc' } }, ['/identityAttributes/emailHash']],
    ['a long device fingerprint', { consent, identityAttributes: { deviceFingerprint: 'x'.repeat(129) } }, ['/identityAttributes/deviceFingerprint']],
    ['a bad origin page and campaign', { consent, channelContext: { originPage: 'not a uri', campaignId: 'lower' } }, ['/channelContext/campaignId', '/channelContext/originPage']],
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
      expect(Object.keys((await genesysState())['guests'])).toHaveLength(0);
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
    expect(Object.keys((await genesysState())['guests'])).toHaveLength(0);
  });

  it.each([
    ['429 (after its retries)', 503, { status: 429, retryAfterSeconds: 1 }],
    ['500 (after its retries)', 502, { status: 500 }],
  ])('maps a Genesys %s to %i and enqueues nothing', async (_case, status, fault) => {
    // Prepare
    await addFaults('genesys', [{ operation: 'createGuest', ...fault }]);

    // Act
    const response = await api('/guests', { method: 'POST', token: writeToken, body: { consent } });

    // Assess
    expect(response.status).toBe(status);
    if (status === 503) expect(response.headers.get('retry-after')).toBe('1');
    expect(await response.json()).toMatchObject({ status, operation: 'createGuest' });
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
});

describe('PATCH /guests/{guestId}', () => {
  it('updates at the given version: 200, the new ETag, conflictsResolved 0, a GUEST_UPDATED job', async () => {
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
    expect(response.headers.get('etag')).toBe('"2"');
    expect(await response.json()).toMatchObject({
      id: guest['id'],
      conflictsResolved: 0,
      consent: { marketing: true, dataProcessing: true },
      attributes: { tier: 'platinum', agentNote: 'none' },
    });
    const jobs = await queuedJobs();
    expect(jobs).toEqual([expect.objectContaining({ source: 'guest', record: expect.objectContaining({ externalId: guest['id'], attributes: { tier: 'platinum', agentNote: 'none' } }) })]);
  });

  it('merges when another writer changed the guest since the caller read it: both changes survive', async () => {
    // Prepare: the caller read version 1; then another writer changed agentNote and the consent.
    const { guest, etag } = await createGuest();
    await touch(guest['id'], { attributes: { agentNote: 'VIP, call back' }, consent: { marketing: false, dataProcessing: false } });

    // Act: the caller changes tier and marketing consent, with its stale ETag.
    const response = await api(`/guests/${guest['id']}`, {
      method: 'PATCH',
      token: writeToken,
      headers: { 'if-match': etag },
      body: { consent: { marketing: true }, attributes: { tier: 'platinum' } },
    });

    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ conflictsResolved: 1 });
    const stored = (await genesysState())['guests'][guest['id']];
    expect(stored['attributes']).toEqual({ tier: 'platinum', agentNote: 'VIP, call back' });
    expect(stored['consent']).toEqual({ marketing: true, dataProcessing: false });
  });

  it('re-reads and retries on a Genesys 412 between its read and its write', async () => {
    // Prepare: the first PATCH meets a 412, as if a writer slipped in.
    const { guest, etag } = await createGuest();
    await addFaults('genesys', [{ operation: 'updateGuest', status: 412, times: 1 }]);

    // Act
    const response = await api(`/guests/${guest['id']}`, { method: 'PATCH', token: writeToken, headers: { 'if-match': etag }, body: { attributes: { tier: 'silver' } } });

    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ conflictsResolved: 1, attributes: { tier: 'silver', agentNote: 'none' } });
    const requests = (await genesysState())['requests'].filter((r: { operation: string }) => r.operation === 'updateGuest');
    expect(requests).toHaveLength(2);
  });

  it('answers 409 naming the conflict after 3 attempts, and changes and enqueues nothing', async () => {
    // Prepare
    const { guest, etag } = await createGuest();
    await purge('queue');
    await addFaults('genesys', [{ operation: 'updateGuest', status: 412 }]);

    // Act
    const response = await api(`/guests/${guest['id']}`, { method: 'PATCH', token: writeToken, headers: { 'if-match': etag }, body: { attributes: { tier: 'silver' } } });

    // Assess
    expect(response.status).toBe(409);
    const problem = (await response.json()) as Record<string, any>;
    expect(problem).toMatchObject({ status: 409, type: expect.stringContaining('conflict'), guestId: guest['id'], attempts: 3, conflictingFields: ['attributes.tier'] });
    expect(problem['detail']).toContain('attributes.tier');
    expect((await genesysState())['guests'][guest['id']]['attributes']['tier']).toBe('gold');
    expect(await queuedJobs()).toEqual([]);
  });

  it('requires If-Match: 428, nothing sent to Genesys', async () => {
    // Prepare
    const { guest } = await createGuest();

    // Act
    const response = await api(`/guests/${guest['id']}`, { method: 'PATCH', token: writeToken, body: { attributes: { tier: 'silver' } } });

    // Assess
    expect(response.status).toBe(428);
    expect(await response.json()).toMatchObject({ status: 428, type: expect.stringContaining('precondition-required') });
    expect((await genesysState())['requests'].filter((r: { operation: string }) => r.operation === 'updateGuest')).toHaveLength(0);
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
    ['a throttled read (429 after retries)', 503, 'created', [{ operation: 'getGuest', status: 429, retryAfterSeconds: 1 }]],
    ['a failing write (500 after retries)', 502, 'created', [{ operation: 'updateGuest', status: 500 }]],
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
  it('answers the engagement metrics of a closed session', async () => {
    // Prepare
    const { guest } = await createGuest();
    await touch(guest['id'], {
      createdDate: '2025-03-01T10:00:00.000Z',
      closedDate: '2025-03-01T10:45:30.000Z',
      messageCount: 14,
      avgResponseTimeMs: 5200,
      attributes: { converted: 'true' },
    });

    // Act
    const response = await api(`/guests/${guest['id']}/metrics`, { token: readToken });

    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      guestId: guest['id'],
      durationMinutes: 45.5,
      messageCount: 14,
      avgResponseTimeMs: 5200,
      conversionFlag: true,
      calculatedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    });
  });

  it('measures an open session up to its last change, with no messages yet', async () => {
    // Prepare
    const { guest } = await createGuest();
    await touch(guest['id'], { createdDate: '2025-03-01T10:00:00.000Z', modifiedDate: '2025-03-01T10:06:00.000Z' });

    // Act
    const response = await api(`/guests/${guest['id']}/metrics`, { token: readToken });

    // Assess
    expect(await response.json()).toMatchObject({ durationMinutes: 6, messageCount: 0, avgResponseTimeMs: null, conversionFlag: false });
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

  it('prints the guest\'s Genesys audit trail through the audit query API (cloud path, environment credentials)', async () => {
    // Prepare: a guest created, then changed by us and by another writer; many pages of results.
    const { guest, etag } = await createGuest();
    await api(`/guests/${guest['id']}`, { method: 'PATCH', token: writeToken, headers: { 'if-match': etag }, body: { attributes: { tier: 'silver' } } });
    await touch(guest['id'], { attributes: { agentNote: 'x' } });
    await createGuest(); // another guest, filtered out
    await fetch(`${stack().genesysUrl}/__sandbox/config`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ auditPendingPolls: 2 }) });

    // Act
    const { stdout } = await run(tsx, [script, '--guest', guest['id'], ...window(), '--json', '--stage', 'integration'], {
      cwd: root,
      env: {
        ...process.env,
        GENESYS_API_BASE_URL: stack().genesysUrl,
        GENESYS_LOGIN_BASE_URL: stack().genesysUrl,
        GENESYS_CLIENT_ID: 'local-genesys-client',
        GENESYS_CLIENT_SECRET: 'local-genesys-client-secret',
      },
      timeout: 60_000,
    });

    // Assess
    const entries = JSON.parse(stdout) as Array<Record<string, any>>;
    expect(entries.map((e) => e['action'])).toEqual(['Create', 'Update', 'Update']);
    expect(entries.every((e) => e['entity']['id'] === guest['id'])).toBe(true);
    const state = await genesysState();
    expect(state['auditQueries']).toEqual([expect.objectContaining({ state: 'Succeeded', polls: 3, resultCount: 3 })]);
  });

  it('reads a running local stack from .local/stack.json and prints a table', async () => {
    // Prepare: a folder with the stack file, as `npm start` writes it.
    const { guest } = await createGuest();
    const cwd = await mkdtemp(join(os.tmpdir(), 'audit-local-'));
    await mkdir(join(cwd, '.local'));
    await writeFile(join(cwd, '.local', 'stack.json'), JSON.stringify(stack()));

    try {
      // Act
      const { stdout } = await run(tsx, [script, '--guest', guest['id'], ...window()], { cwd, env: process.env, timeout: 60_000 });

      // Assess
      const lines = stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^date\s+action\s+entity\s+actor\s+changed properties$/);
      expect(lines).toHaveLength(3);
      expect(lines[2]).toContain(`Guest ${guest['id']}`);
      expect(lines[2]).toContain('Create');
      expect(lines[2]).toContain('consent');
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
