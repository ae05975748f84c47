/**
 * The prefill flow with its dependencies replaced by recorders and the in-memory state
 * table: what is stored, what reaches Genesys and the queue, in which order, and what is
 * audited and measured for each outcome.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GenesysError, type GenesysClient } from '#lib/genesys';
import type { CrmSyncJob } from '#lib/jobs';
import { prefillAudit, prefillSession } from '#lib/prefill';
import type { PrefillDependencies, PrefillRequest } from '#lib/prefill/service.ts';
import { PreparedSessions } from '#lib/state';
import { MemoryStateTable } from '#lib/state/table.ts';
import { captureOutput, type CapturedOutput } from '#test/support/lambda.ts';
import { audited } from '#test/unit/lib/lambda/support.ts';

const SESSION_ID = '3f6c1d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f';
const LINK = { conversationId: 'c0c0c0c0-0000-4000-8000-000000000001', participantId: 'b0b0b0b0-0000-4000-8000-000000000002' };
const NOW = Date.parse('2025-01-15T10:30:00.000Z');

interface Patch {
  operation: string;
  params: Record<string, string>;
  body: { attributes: Record<string, unknown> };
}

interface Recorder {
  deps: PrefillDependencies;
  table: MemoryStateTable;
  sessions: PreparedSessions;
  patches: Patch[];
  enqueued: CrmSyncJob[][];
  saltReads: number;
}

function recorder(options: { patchError?: Error; enqueueError?: Error; pending?: boolean } = {}): Recorder {
  const table = new MemoryStateTable(() => NOW);
  const sessions = new PreparedSessions(table, () => NOW);
  const rec: Recorder = {
    table,
    sessions,
    patches: [],
    enqueued: [],
    saltReads: 0,
    deps: {
      sessions,
      ttlSeconds: 1800,
      genesys: {
        call: (async (operation: { name: string }, call: { params: Record<string, string>; body: Patch['body'] }) => {
          rec.patches.push({ operation: operation.name, params: call.params, body: call.body });
          if (options.patchError) throw options.patchError;
          return { status: 202, body: undefined };
        }) as unknown as GenesysClient['call'],
      },
      identitySalt: async () => {
        rec.saltReads += 1;
        return 'unit-salt';
      },
      enqueue: async (jobs) => {
        rec.enqueued.push(jobs);
        if (options.enqueueError) throw options.enqueueError;
        return { pending: options.pending ? jobs.map((job) => job.jobId) : [] };
      },
      now: () => new Date(NOW),
    },
  };
  return rec;
}

/** Prefills once so the session exists, then links it as the events function would. */
async function linked(rec: Recorder): Promise<void> {
  await attempt(request({ attributes: { tier: 'silver' } }), rec.deps);
  await rec.sessions.link(SESSION_ID, LINK, new Date(NOW).toISOString());
  rec.patches.length = 0;
  rec.enqueued.length = 0;
}

/** One prefill attempt as the route runs it: under the audit middleware. */
const attempt = (req: PrefillRequest, deps: PrefillDependencies) =>
  audited(prefillAudit, (facts) => prefillSession(req, deps, facts), { requestBytes: req.rawBody.length });

const sessionItems = (rec: Recorder) => [...rec.table.items.keys()].filter((key) => key.startsWith('session#') || key.startsWith('gsref#'));

const request = (body: unknown, overrides: Partial<PrefillRequest> = {}): PrefillRequest => ({
  pathParameters: { sessionId: SESSION_ID },
  headers: { 'content-type': 'application/json' },
  rawBody: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  ...overrides,
});

const audits = (output: CapturedOutput) => output.logged('audit');
const failureReasons = (output: CapturedOutput) =>
  output
    .entries()
    .filter((entry) => 'PrefillFailures' in entry)
    .map((entry) => entry['reason']);

let output: CapturedOutput;
beforeEach(() => {
  output = captureOutput();
});
afterEach(() => output.restore());

describe('prefillSession', () => {
  it('stores the prepared session, calls no Genesys operation while no conversation is linked, and answers the Messenger map', async () => {
    // Prepare
    const rec = recorder();

    // Act
    const result = await attempt(request({ attributes: { email: 'jane@example.com', tier: 'gold', vip: 'true', visits: '3' } }), rec.deps);

    // Assess
    const stored = await rec.sessions.get(SESSION_ID);
    expect(stored).toMatchObject({ attributes: { email: '*'.repeat(16), tier: 'gold', vip: 'true', visits: '3' }, preparedAt: new Date(NOW).toISOString() });
    expect(rec.patches).toEqual([]);
    expect(rec.enqueued).toHaveLength(1);
    expect(rec.enqueued[0]?.[0]?.jobId).toBe(result.syncJobId);
    expect(rec.enqueued[0]?.[0]?.record.attributes).toEqual({ tier: 'gold', vip: true, visits: 3 });
    expect(result).toEqual({
      sessionId: SESSION_ID,
      attributeCount: 4,
      byteSize: Buffer.byteLength(JSON.stringify({ attributes: { email: '*'.repeat(16), tier: 'gold', vip: true, visits: 3 } })),
      maskedKeys: ['email'],
      syncJobId: expect.stringMatching(/^prefill-/),
      applied: 'pending',
      sync: 'queued',
      customAttributes: { email: '*'.repeat(16), tier: 'gold', vip: 'true', visits: '3', gsRef: stored?.gsRef },
    });
  });

  it('keeps the reference when the session is prefilled again, with the new attributes', async () => {
    // Prepare
    const rec = recorder();
    const first = await attempt(request({ attributes: { tier: 'gold' } }), rec.deps);

    // Act
    const second = await attempt(request({ attributes: { tier: 'platinum' } }), rec.deps);

    // Assess
    expect(second.customAttributes).toEqual({ tier: 'platinum', gsRef: first.customAttributes['gsRef'] });
    expect(await rec.sessions.byRef(first.customAttributes['gsRef'] ?? '')).toMatchObject({ attributes: { tier: 'platinum' } });
  });

  it('PATCHes the guest participant with string values when the session is linked to a live conversation', async () => {
    // Prepare
    const rec = recorder();
    await linked(rec);

    // Act
    const result = await attempt(request({ attributes: { tier: 'gold', vip: true, score: 4.5 } }), rec.deps);

    // Assess
    expect(result.applied).toBe('conversation');
    expect(rec.patches).toEqual([
      {
        operation: 'patchParticipantAttributes',
        params: LINK,
        body: { attributes: { tier: 'gold', vip: 'true', score: '4.5', gsRef: result.customAttributes['gsRef'] } },
      },
    ]);
    expect(rec.enqueued).toHaveLength(1);
    expect(audits(output).at(-1)).toMatchObject({ type: 'prefill_success', applied: 'conversation' });
  });

  it('stops PATCHing once the linked conversation has ended', async () => {
    // Prepare
    const rec = recorder();
    await linked(rec);
    await rec.sessions.end(LINK.conversationId, new Date(NOW).toISOString());

    // Act
    const result = await attempt(request({ attributes: { tier: 'gold' } }), rec.deps);

    // Assess
    expect(result.applied).toBe('pending');
    expect(rec.patches).toEqual([]);
    expect(rec.enqueued).toHaveLength(1);
  });

  it('answers 503 with Retry-After and sends nothing when the state table is unavailable', async () => {
    // Prepare
    const rec = recorder();
    rec.table.put = async () => {
      throw Object.assign(new Error('Service unavailable'), { name: 'InternalServerError' });
    };

    // Act
    const outcome = await attempt(request({ attributes: { tier: 'gold' } }), rec.deps).catch((error: unknown) => error);

    // Assess
    expect(outcome).toMatchObject({ status: 503, headers: { 'Retry-After': '1' } });
    expect(rec.patches).toEqual([]);
    expect(rec.enqueued).toEqual([]);
    expect(audits(output)).toEqual([expect.objectContaining({ type: 'prefill_failure', status: 503, reason: 'state' })]);
  });

  it('answers 200 with sync "pending" when SQS did not take the job and the outbox keeps it', async () => {
    // Prepare
    const rec = recorder({ pending: true });

    // Act
    const result = await attempt(request({ attributes: { tier: 'gold' } }), rec.deps);

    // Assess
    expect(result).toMatchObject({ sync: 'pending', syncJobId: rec.enqueued[0]?.[0]?.jobId });
    expect(audits(output)).toEqual([expect.objectContaining({ type: 'prefill_success', status: 200 })]);
  });

  it("versions the job at the request's arrival, not after the Genesys call", async () => {
    // Prepare: the PATCH takes 5 s of a fake clock
    const arrival = NOW;
    let clock = arrival;
    const rec = recorder();
    await linked(rec);
    rec.deps.now = () => new Date(clock);
    const call = rec.deps.genesys.call;
    rec.deps.genesys.call = (async (...args: Parameters<typeof call>) => {
      clock += 5_000;
      return call(...args);
    }) as typeof call;

    // Act
    await attempt(request({ attributes: { tier: 'gold' } }), rec.deps);

    // Assess
    expect(rec.enqueued[0]?.[0]?.record.sourceUpdatedAt).toBe(new Date(arrival).toISOString());
  });

  it('writes one audit line with counts and ids and no attribute value', async () => {
    // Prepare
    const rec = recorder();

    // Act
    await attempt(request({ attributes: { first_name: 'Zebulon', email: 'zeb@example.com' } }), rec.deps);

    // Assess
    const lines = audits(output);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      auditId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      type: 'prefill_success',
      sessionId: SESSION_ID,
      attributeCount: 2,
      byteSize: expect.any(Number),
      latencyMs: expect.any(Number),
      status: 200,
      syncJobId: expect.stringMatching(/^prefill-/),
    });
    expect(output.text()).not.toContain('Zebulon');
    expect(output.text()).not.toContain('zeb@example.com');
  });

  it('reads the identity salt only when there is an email or phone to hash', async () => {
    // Prepare
    const rec = recorder();

    // Act
    await attempt(request({ attributes: { tier: 'gold' } }), rec.deps);
    await attempt(request({ attributes: { phone: '555-123-4567' } }), rec.deps);

    // Assess
    expect(rec.saltReads).toBe(1);
  });

  describe.each([
    ['a session id that is not a UUID', request({ attributes: { a: 'b' } }, { pathParameters: { sessionId: 'not-a-uuid' } }), 400, 'validation'],
    ['malformed JSON', request('{"attributes": {'), 400, 'validation'],
    ['an empty body', request(''), 400, 'validation'],
    ['a form-encoded body', request('a=b', { headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'validation'],
    ['a nested attribute', request({ attributes: { a: { b: 1 } } }), 400, 'validation'],
    ['attributes over 10,240 bytes', request({ attributes: { note: 'x'.repeat(10_300) } }), 413, 'too_large'],
  ])('refuses %s', (_case, req, status, reason) => {
    it(`(${status}) before storing anything or calling Genesys or the queue, audited as a ${reason} failure`, async () => {
      // Prepare
      const rec = recorder();

      // Act
      const outcome = await attempt(req, rec.deps).catch((error: unknown) => error);

      // Assess
      expect(outcome).toBeInstanceOf(Error);
      expect(rec.table.items.size).toBe(0);
      expect(rec.patches).toEqual([]);
      expect(rec.enqueued).toEqual([]);
      expect(audits(output)).toEqual([expect.objectContaining({ type: 'prefill_failure', status, reason })]);
      expect(failureReasons(output)).toEqual([reason]);
    });
  });

  describe.each([
    ['404', 404, 404, 'not_found'],
    ['429 after retries', 429, 503, 'throttled'],
    ['401 after a token refresh', 401, 502, 'upstream'],
    ['500 after retries', 500, 502, 'upstream'],
  ])('when the PATCH of a linked session fails with %s', (_case, upstreamStatus, status, reason) => {
    it(`fails with ${status}, queues nothing, and keeps the new preparation`, async () => {
      // Prepare
      const rec = recorder();
      await linked(rec);
      output.restore();
      output = captureOutput();
      rec.deps.genesys.call = (async () => {
        throw new GenesysError({ operation: 'patchParticipantAttributes', kind: 'http', upstreamStatus, retryable: false, attempts: 1 });
      }) as unknown as GenesysClient['call'];

      // Act
      const outcome = await attempt(request({ attributes: { tier: 'gold' } }), rec.deps).catch((error: unknown) => error);

      // Assess
      expect((outcome as GenesysError).status).toBe(status);
      expect(rec.enqueued).toEqual([]);
      expect((await rec.sessions.get(SESSION_ID))?.attributes).toEqual({ tier: 'gold' });
      expect(audits(output)).toEqual([expect.objectContaining({ type: 'prefill_failure', status, reason, sessionId: SESSION_ID })]);
    });
  });

  it('says the attributes were prepared when the job could not be queued, and logs the job for replay', async () => {
    // Prepare
    const rec = recorder({ enqueueError: new Error('SQS unavailable') });

    // Act
    const outcome = await attempt(request({ attributes: { tier: 'gold', phone: '555-123-4567' } }), rec.deps).catch(
      (error: unknown) => error,
    );

    // Assess
    expect(outcome).toMatchObject({ status: 502, type: 'sync-not-queued', extensions: { attributesPrepared: true, attributesApplied: false } });
    expect((outcome as Error).message).toMatch(/session .* were prepared, but CRM sync job prefill-\w+ could not be queued/);
    const replay = output.logged('CRM sync job not queued after the attributes were prepared; replay it');
    expect(replay).toHaveLength(1);
    expect(replay[0]?.['job']).toMatchObject({ jobId: rec.enqueued[0]?.[0]?.jobId, record: { externalId: SESSION_ID, phoneHash: expect.any(String) } });
    expect(output.text()).not.toContain('555-123-4567');
    expect(audits(output)).toEqual([expect.objectContaining({ type: 'prefill_failure', status: 502, reason: 'enqueue' })]);
  });

  it('audits a misconfigured function too (500)', async () => {
    // Act
    const outcome = await audited(prefillAudit, async () => {
      throw new Error('CRM_SYNC_QUEUE_URL is required');
    }).catch((error: unknown) => error);

    // Assess
    expect(outcome).toBeInstanceOf(Error);
    expect(audits(output)).toEqual([expect.objectContaining({ type: 'prefill_failure', status: 500, reason: 'internal' })]);
  });

  it('emits attempt, success, latency and payload-size metrics', async () => {
    // Prepare
    const rec = recorder();
    const { metrics } = await import('#lib/observability');
    metrics.publishStoredMetrics();
    const before = output.entries().length;

    // Act
    const result = await attempt(request({ attributes: { tier: 'gold' } }), rec.deps);
    metrics.publishStoredMetrics();

    // Assess
    const emf = output.entries().slice(before).find((entry) => 'PrefillAttempts' in entry);
    expect(emf).toMatchObject({ PrefillAttempts: 1, PrefillSuccesses: 1, PrefillPayloadBytes: result.byteSize, JobsEnqueued: 1 });
    expect(emf?.['PrefillLatency']).toEqual(expect.any(Number));
  });
});
