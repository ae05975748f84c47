/**
 * The prefill flow with its dependencies replaced by recorders: what reaches Genesys and
 * the queue, in which order, and what is audited and measured for each outcome.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GenesysError } from '#lib/genesys';
import type { CrmSyncJob } from '#lib/jobs';
import { prefillSession } from '#lib/prefill';
import type { PrefillDependencies, PrefillRequest } from '#lib/prefill';
import { captureOutput, type CapturedOutput } from '../../../support/lambda.ts';

const SESSION_ID = '3f6c1d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f';

interface Recorder {
  deps: PrefillDependencies;
  puts: Array<{ sessionId: string; attributes: Record<string, unknown> }>;
  enqueued: CrmSyncJob[][];
  saltReads: number;
}

function recorder(options: { putError?: Error; enqueueError?: Error; pending?: boolean } = {}): Recorder {
  const rec: Recorder = {
    puts: [],
    enqueued: [],
    saltReads: 0,
    deps: {
      genesys: {
        putSessionAttributes: async (sessionId, attributes) => {
          rec.puts.push({ sessionId, attributes });
          if (options.putError) throw options.putError;
          return { status: 200, body: undefined };
        },
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
      now: () => new Date('2025-01-15T10:30:00.000Z'),
    },
  };
  return rec;
}

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
  it('PUTs the processed attributes, then queues one job, and reports what it did', async () => {
    // Prepare
    const rec = recorder();

    // Act
    const result = await prefillSession(request({ attributes: { email: 'jane@example.com', tier: 'gold', vip: 'true' } }), () => rec.deps);

    // Assess
    expect(rec.puts).toEqual([{ sessionId: SESSION_ID, attributes: { email: '*'.repeat(16), tier: 'gold', vip: true } }]);
    expect(rec.enqueued).toHaveLength(1);
    expect(rec.enqueued[0]?.[0]?.jobId).toBe(result.syncJobId);
    expect(result).toEqual({
      sessionId: SESSION_ID,
      attributeCount: 3,
      byteSize: Buffer.byteLength(JSON.stringify({ attributes: rec.puts[0]?.attributes })),
      maskedKeys: ['email'],
      syncJobId: expect.stringMatching(/^prefill-/),
      sync: 'queued',
    });
  });

  it('answers 200 with sync "pending" when SQS did not take the job and the outbox keeps it', async () => {
    // Prepare
    const rec = recorder({ pending: true });

    // Act
    const result = await prefillSession(request({ attributes: { tier: 'gold' } }), () => rec.deps);

    // Assess
    expect(result).toMatchObject({ sync: 'pending', syncJobId: rec.enqueued[0]?.[0]?.jobId });
    expect(audits(output)).toEqual([expect.objectContaining({ type: 'prefill_success', status: 200 })]);
  });

  it("versions the job at the request's arrival, not after the Genesys call", async () => {
    // Prepare: the Genesys call takes 5 s of a fake clock
    const arrival = Date.parse('2025-01-15T10:30:00.000Z');
    let clock = arrival;
    const rec = recorder();
    rec.deps.now = () => new Date(clock);
    const put = rec.deps.genesys.putSessionAttributes;
    rec.deps.genesys.putSessionAttributes = async (...args) => {
      clock += 5_000;
      return put(...args);
    };

    // Act
    await prefillSession(request({ attributes: { tier: 'gold' } }), () => rec.deps);

    // Assess
    expect(rec.enqueued[0]?.[0]?.record.sourceUpdatedAt).toBe(new Date(arrival).toISOString());
  });

  it('writes one audit line with counts and ids and no attribute value', async () => {
    // Prepare
    const rec = recorder();

    // Act
    await prefillSession(request({ attributes: { first_name: 'Zebulon', email: 'zeb@example.com' } }), () => rec.deps);

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
    await prefillSession(request({ attributes: { tier: 'gold' } }), () => rec.deps);
    await prefillSession(request({ attributes: { phone: '555-123-4567' } }), () => rec.deps);

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
    it(`(${status}) before calling Genesys or the queue, audited as a ${reason} failure`, async () => {
      // Prepare
      const rec = recorder();

      // Act
      const outcome = await prefillSession(req, () => rec.deps).catch((error: unknown) => error);

      // Assess
      expect(outcome).toBeInstanceOf(Error);
      expect(rec.puts).toEqual([]);
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
  ])('when Genesys answers %s', (_case, upstreamStatus, status, reason) => {
    it(`fails with ${status} and queues nothing`, async () => {
      // Prepare
      const rec = recorder({
        putError: new GenesysError({ operation: 'putSessionAttributes', kind: 'http', upstreamStatus, retryable: false, attempts: 1 }),
      });

      // Act
      const outcome = await prefillSession(request({ attributes: { tier: 'gold' } }), () => rec.deps).catch((error: unknown) => error);

      // Assess
      expect((outcome as GenesysError).status).toBe(status);
      expect(rec.puts).toHaveLength(1);
      expect(rec.enqueued).toEqual([]);
      expect(audits(output)).toEqual([expect.objectContaining({ type: 'prefill_failure', status, reason, sessionId: SESSION_ID })]);
    });
  });

  it('says the attributes were applied when the job could not be queued, and logs the job for replay', async () => {
    // Prepare
    const rec = recorder({ enqueueError: new Error('SQS unavailable') });

    // Act
    const outcome = await prefillSession(request({ attributes: { tier: 'gold', phone: '555-123-4567' } }), () => rec.deps).catch(
      (error: unknown) => error,
    );

    // Assess
    expect(outcome).toMatchObject({ status: 502, type: 'sync-not-queued' });
    expect((outcome as Error).message).toMatch(/applied to session .* but CRM sync job prefill-\w+ could not be queued/);
    const replay = output.logged('CRM sync job not queued after the attributes were applied; replay it');
    expect(replay).toHaveLength(1);
    expect(replay[0]?.['job']).toMatchObject({ jobId: rec.enqueued[0]?.[0]?.jobId, record: { externalId: SESSION_ID, phoneHash: expect.any(String) } });
    expect(output.text()).not.toContain('555-123-4567');
    expect(audits(output)).toEqual([expect.objectContaining({ type: 'prefill_failure', status: 502, reason: 'enqueue' })]);
  });

  it('audits a misconfigured function too (500)', async () => {
    // Act
    const outcome = await prefillSession(request({ attributes: { a: 'b' } }), () => {
      throw new Error('CRM_SYNC_QUEUE_URL is required');
    }).catch((error: unknown) => error);

    // Assess
    expect(outcome).toBeInstanceOf(Error);
    expect(audits(output)).toEqual([expect.objectContaining({ type: 'prefill_failure', status: 500, reason: 'internal' })]);
  });

  it('emits attempt, success, latency and payload-size metrics', async () => {
    // Prepare
    const rec = recorder();
    const { metrics } = await import('#lib/lambda');
    metrics.publishStoredMetrics();
    const before = output.entries().length;

    // Act
    const result = await prefillSession(request({ attributes: { tier: 'gold' } }), () => rec.deps);
    metrics.publishStoredMetrics();

    // Assess
    const emf = output.entries().slice(before).find((entry) => 'PrefillAttempts' in entry);
    expect(emf).toMatchObject({ PrefillAttempts: 1, PrefillSuccesses: 1, PrefillPayloadBytes: result.byteSize, JobsEnqueued: 1 });
    expect(emf?.['PrefillLatency']).toEqual(expect.any(Number));
  });
});
