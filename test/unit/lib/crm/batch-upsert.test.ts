import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BatchUpsertOutcome } from '#lib/crm';
import { batchUpsert, readResults } from '#lib/crm/batch-upsert.ts';
import type { CrmRecord } from '#lib/jobs';
import { startCrmSandbox, type CrmSandbox } from '#local/sandbox/index.ts';
import { countingTokens } from '#test/unit/lib/genesys/support.ts';
import { startScriptedServer, unreachableUrl, type ScriptedServer, type Step } from '#test/support/scripted-server.ts';

const recordFactory = (externalId: string, at = '2025-03-01T10:00:00.000Z'): CrmRecord => ({
  externalId,
  attributes: { tier: 'gold' },
  lastInteraction: at,
  sourceUpdatedAt: at,
});
const records = [recordFactory('a'), recordFactory('b')];

let sandbox: CrmSandbox;
const servers: ScriptedServer[] = [];
beforeEach(async () => {
  sandbox = await startCrmSandbox({ apiToken: 'token-1' });
});
afterEach(async () => {
  await sandbox.close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

const upsertTo = (baseUrl: string, key = 'key-1', timeoutMs = 2_000, batch = records): Promise<BatchUpsertOutcome> =>
  batchUpsert({ baseUrl, idempotencyKey: key, records: batch, timeoutMs, tokens: countingTokens() });

describe('batchUpsert against the sandbox CRM', () => {
  it('sends the key in the header and the body and answers each record in order', async () => {
    // Act
    const outcome = await upsertTo(sandbox.url);

    // Assess
    expect(outcome).toEqual({
      kind: 'ok',
      status: 200,
      replayed: false,
      results: [
        { externalId: 'a', status: 'created' },
        { externalId: 'b', status: 'created' },
      ],
    });
    expect(sandbox.state().requests.map((r) => r['idempotencyKey'])).toEqual(['key-1']);
  });

  it('is answered from the idempotency store when the same key comes again', async () => {
    // Prepare
    await upsertTo(sandbox.url);

    // Act
    const again = await upsertTo(sandbox.url);

    // Assess
    expect(again).toMatchObject({ kind: 'ok', replayed: true });
    expect(sandbox.state().duplicateApplications).toEqual([]);
  });

  it('reports failed records with their code and message', async () => {
    // Prepare
    await fetch(`${sandbox.url}/__sandbox/record-failures`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rules: [{ externalId: 'b', code: 'VALIDATION_ERROR', message: 'contact jane@example.com rejected' }] }),
    });

    // Act
    const outcome = await upsertTo(sandbox.url);

    // Assess: the CRM's text is kept, with identifiers masked
    expect(outcome).toMatchObject({
      kind: 'ok',
      results: [
        { externalId: 'a', status: 'created' },
        { externalId: 'b', status: 'failed', error: { code: 'VALIDATION_ERROR', message: expect.not.stringContaining('jane@example.com') } },
      ],
    });
  });

  describe.each<[string, Record<string, unknown>, Partial<BatchUpsertOutcome>]>([
    ['429 with Retry-After', { status: 429, retryAfterSeconds: 3 }, { kind: 'transient', status: 429, retryAfterMs: 3_000 }],
    ['503', { status: 503 }, { kind: 'transient', status: 503 }],
    ['500', { status: 500 }, { kind: 'transient', status: 500 }],
    ['401 twice (after the token refresh)', { status: 401 }, { kind: 'transient', status: 401 }],
    ['422', { status: 422 }, { kind: 'rejected', status: 422 }],
    ['400', { status: 400 }, { kind: 'rejected', status: 400 }],
    ['a dropped connection', { dropConnection: true }, { kind: 'transient', timedOut: false }],
    ['an answer slower than the timeout', { delayMs: 1_500 }, { kind: 'transient', timedOut: true, reason: 'the CRM did not answer in time' }],
  ])('%s', (_case, rule, expected) => {
    it('becomes the right outcome', async () => {
      // Prepare
      sandbox.faults.add([{ operation: 'batchUpsert', ...rule }]);

      // Act
      const outcome = await upsertTo(sandbox.url, 'key-1', 500);

      // Assess
      expect(outcome).toMatchObject(expected);
    });
  });

  it('answers 409 while the same key is still in flight', async () => {
    // Prepare: the first request commits, then its answer is held back
    sandbox.faults.add([{ operation: 'batchUpsert', delayAfterCommitMs: 800, times: 1 }]);
    const first = upsertTo(sandbox.url, 'key-1', 2_000);
    await new Promise((resolve) => setTimeout(resolve, 200));

    // Act
    const second = await upsertTo(sandbox.url, 'key-1', 2_000);

    // Assess
    expect(second).toMatchObject({ kind: 'transient', status: 409 });
    expect(await first).toMatchObject({ kind: 'ok' });
    expect(sandbox.state().duplicateApplications).toEqual([]);
  });

  it('reports a CRM nobody listens on as transient', async () => {
    // Act
    const outcome = await upsertTo(await unreachableUrl());

    // Assess
    expect(outcome).toMatchObject({ kind: 'transient', reason: 'the CRM could not be reached' });
  });

  it('reports unreadable credentials as transient, without calling the CRM', async () => {
    // Act
    const outcome = await batchUpsert({
      baseUrl: sandbox.url,
      idempotencyKey: 'k',
      records,
      timeoutMs: 500,
      tokens: { getToken: async () => Promise.reject(new Error('no secret')), invalidate: () => undefined },
    });

    // Assess
    expect(outcome).toMatchObject({ kind: 'transient', reason: expect.stringContaining('credentials') });
    expect(sandbox.state().requests).toHaveLength(0);
  });
});

describe('batchUpsert against a misbehaving CRM', () => {
  it.each<[string, Step]>([
    ['no results array', { status: 200, body: { ok: true } }],
    ['too few results', { status: 200, body: { results: [{ externalId: 'a', status: 'created' }] } }],
    ['results out of order', { status: 200, body: { results: [{ externalId: 'b', status: 'created' }, { externalId: 'a', status: 'created' }] } }],
    ['an unknown status', { status: 200, body: { results: [{ externalId: 'a', status: 'merged' }, { externalId: 'b', status: 'created' }] } }],
    ['a body that is not JSON', { status: 200, body: 'OK' }],
  ])('treats a 200 with %s as transient (a CRM fault, not a verdict on the records)', async (_case, step) => {
    // Prepare
    const server = await startScriptedServer([step]);
    servers.push(server);

    // Act
    const outcome = await upsertTo(server.url);

    // Assess
    expect(outcome.kind).toBe('transient');
  });

  it('reads an HTTP-date Retry-After', async () => {
    // Prepare
    const now = Date.parse('2025-03-01T10:00:00.000Z');
    const server = await startScriptedServer([{ status: 503, headers: { 'Retry-After': 'Sat, 01 Mar 2025 10:00:05 GMT' } }]);
    servers.push(server);

    // Act
    const outcome = await batchUpsert({ baseUrl: server.url, idempotencyKey: 'k', records, timeoutMs: 1_000, tokens: countingTokens(), now: () => now });

    // Assess
    expect(outcome).toMatchObject({ kind: 'transient', status: 503, retryAfterMs: 5_000 });
  });
});

describe('readResults', () => {
  it('fills a failed result without a code with an empty code (classified later)', () => {
    // Act
    const results = readResults({ results: [{ externalId: 'a', status: 'failed' }] }, [recordFactory('a')]);

    // Assess
    expect(results).toEqual([{ externalId: 'a', status: 'failed', error: { code: '', message: '' } }]);
  });
});

describe('batchUpsert under a deadline', () => {
  it('returns a timeout outcome on time even when the token never comes (nothing is sent)', async () => {
    // Act
    const outcome = await batchUpsert({
      baseUrl: sandbox.url,
      idempotencyKey: 'k',
      records,
      timeoutMs: 100,
      tokens: { getToken: () => new Promise<string>(() => undefined), invalidate: () => undefined },
    });

    // Assess
    expect(outcome).toMatchObject({ kind: 'transient', timedOut: true, reason: 'the CRM did not answer in time' });
    expect(sandbox.state().requests).toHaveLength(0);
  });

  it('returns a timeout outcome when the CRM accepts the request and never answers', async () => {
    // Prepare
    const server = await startScriptedServer([{ hang: true }]);
    servers.push(server);

    // Act
    const outcome = await upsertTo(server.url, 'k', 150);

    // Assess
    expect(outcome).toMatchObject({ kind: 'transient', timedOut: true });
  });
});
