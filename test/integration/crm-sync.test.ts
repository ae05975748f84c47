/**
 * The CRM sync worker end to end on the local stack: jobs on the real embedded SQS queue,
 * the event source mapping invoking the worker through serverless-offline, the sandbox CRM
 * with fault injection, the real DLQ and the operator's redrive tool.
 *
 * The stack runs the worker with its local stage settings (timeout 6 s, breaker pause 2 s)
 * and the integration setup's 2 s visibility timeout (maxReceiveCount stays 5).
 *
 * Every scenario ends with the invariant: each accepted job is either in the CRM at its
 * record's newest version, or in the DLQ with a failure code and reason. None is missing.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CrmSyncJob } from '#lib/jobs';
import { localSqsClient } from '#local/sqs.ts';
import { attribute, expectNothingLost, type StoredRecords } from '#test/support/invariant.ts';
import { jobVersion } from '#test/support/factories.ts';
import { addFaults, crmState, enqueue, purge, queueDepth, resetSandboxes, setWorkerPaused, stack, until } from '#test/support/stack.ts';

const run = promisify(execFile);
const sqs = () => localSqsClient(stack().sqsEndpoint);

/** A deterministic pseudo-random sequence, so the shuffles are the same on every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

let runId = 0;
/** Version `version` of record `externalId` (later versions have a later sourceUpdatedAt). */
const jobFor = (externalId: string, version = 1): CrmSyncJob => jobVersion(externalId, version, { emailHash: 'b'.repeat(64) });

/** Ids unique to one test, so nothing from an earlier test can be mistaken for this one's. */
const ids = (count: number, prefix = 'ext'): string[] => {
  runId += 1;
  return Array.from({ length: count }, (_, i) => `${prefix}-${runId}-${String(i).padStart(4, '0')}`);
};


/**
 * Stops the worker taking batches. A poll already under way may still take what arrives
 * in its last second, so this waits that second out.
 */
async function pauseWorker(): Promise<void> {
  await setWorkerPaused(true);
  await new Promise((resolve) => setTimeout(resolve, 1_500));
}

/** Waits until the worker has settled every message (none visible, none in flight). */
async function settled(timeoutMs = 45_000): Promise<void> {
  await until(async () => (await queueDepth('queue')) === 0, timeoutMs, 'the CRM sync queue to drain');
}

beforeAll(async () => {
  await setWorkerPaused(false);
});

beforeEach(async () => {
  await pauseWorker();
  await purge('queue');
  await purge('dlq');
  await resetSandboxes();
  await setWorkerPaused(false);
});

afterAll(async () => {
  await resetSandboxes();
  await purge('dlq');
});

describe('the CRM sync worker on the local stack', () => {
  it('ends 500 jobs with duplicates and out-of-order versions as exactly the newest version of each record, no key applied twice', async () => {
    // Prepare: 120 records with 1 to 6 versions each (420 jobs), shuffled, 80 of them sent twice
    const random = seeded(4);
    const records = ids(120);
    const versions = records.flatMap((id, i) => Array.from({ length: 1 + (i % 6) }, (_, v) => jobFor(id, v + 1)));
    const jobs = shuffle([...versions, ...shuffle(versions, random).slice(0, 500 - versions.length)], random);
    expect(jobs).toHaveLength(500);

    // Act
    await enqueue(jobs);
    await settled();

    // Assess
    const state = await crmState<{ records: StoredRecords; requests: Array<{ operation: string }> }>();
    expect(Object.keys(state.records).sort()).toEqual(records);
    records.forEach((id, i) => expect(state.records[id]?.record.attributes?.['version']).toBe(1 + (i % 6)));
    expect(await expectNothingLost(jobs)).toEqual([]);
  });

  describe.each<[string, Array<Record<string, unknown>>]>([
    ['a 429 storm', [{ operation: 'batchUpsert', status: 429, retryAfterSeconds: 1, times: 4 }]],
    ['a burst of 500 and 503 answers', [{ operation: 'batchUpsert', status: 503, times: 3 }, { operation: 'batchUpsert', status: 500, times: 2 }]],
    ['requests that time out', [{ operation: 'batchUpsert', delayMs: 7_000, times: 2 }]],
    ['409: the same key still in flight', [{ operation: 'batchUpsert', status: 409, times: 4 }]],
    ['dropped connections', [{ operation: 'batchUpsert', dropConnection: true, times: 3 }]],
  ])('after %s', (_case, rules) => {
    it('every job reaches the CRM once the faults stop, and none is in the DLQ', async () => {
      // Prepare
      await addFaults('crm', rules);
      const jobs = ids(60).map((id) => jobFor(id));

      // Act
      await enqueue(jobs);
      await settled();

      // Assess
      const state = await crmState<{ faults: Array<{ applied: number; times: number }> }>();
      expect(state.faults.every((fault) => fault.applied === fault.times)).toBe(true);
      expect(await expectNothingLost(jobs)).toEqual([]);
      expect(await queueDepth('dlq')).toBe(0);
    });
  });

  it('dead-letters exactly the records the CRM rejects, with their reasons; their chunk-mates reach the CRM', async () => {
    // Prepare
    const records = ids(40);
    const rejected = [records[3], records[17], records[29]] as string[];
    await fetch(`${stack().crmUrl}/__sandbox/record-failures`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rules: rejected.map((externalId) => ({ externalId, code: 'VALIDATION_ERROR', message: `record ${externalId} has no consent basis` })) }),
    });
    const jobs = records.map((id) => jobFor(id));

    // Act
    await enqueue(jobs);
    await settled();

    // Assess
    const dlq = await expectNothingLost(jobs);
    const byJob = (externalId: string) => jobs.find((job) => job.record.externalId === externalId)?.jobId;
    // Distinct letters: on a loaded machine an invocation can outlast the test stack's 2 s
    // visibility (AWS refuses one below the function timeout), so SQS hands the same message
    // to a second invocation, which may dead-letter it too; a second copy loses nothing.
    const letters = [...new Set(dlq.map((m) => JSON.stringify([attribute(m, 'jobId'), attribute(m, 'failureCode'), attribute(m, 'failureReason')])))].map((letter) => JSON.parse(letter) as string[]);
    expect(letters.sort()).toEqual(
      rejected.map((id) => [byJob(id), 'VALIDATION_ERROR', `record ${id} has no consent basis`]).sort(),
    );
    expect(dlq.every((m) => !Number.isNaN(Date.parse(attribute(m, 'failedAt') ?? '')))).toBe(true);
    const state = await crmState<{ records: StoredRecords }>();
    expect(Object.keys(state.records).sort()).toEqual(records.filter((id) => !rejected.includes(id)));
  });

  it('dead-letters a message that is not a valid job at once, with its reason, and syncs the rest', async () => {
    // Prepare
    const jobs = ids(3).map((id) => jobFor(id));
    const client = sqs();
    await client.send(new SendMessageCommand({ QueueUrl: stack().queueUrl, MessageBody: JSON.stringify({ ...jobFor('x'), v: 2 }) }));
    client.destroy();

    // Act
    await enqueue(jobs);
    await settled();

    // Assess
    const dlq = await expectNothingLost(jobs);
    expect(dlq).toHaveLength(1);
    expect(attribute(dlq[0] as Message, 'failureCode')).toBe('INVALID_JOB');
    expect(attribute(dlq[0] as Message, 'failureReason')).toContain('/v must be equal to constant');
    expect(dlq[0]?.Body).toContain('"v":2');
  });

  it('applies a chunk once when the CRM committed it but answered after the function timeout: the redelivery reuses its key', async () => {
    // Prepare: the first upsert commits at once and answers 6.5 s later (the worker times out at 6 s)
    await addFaults('crm', [{ operation: 'batchUpsert', delayAfterCommitMs: 6_500, times: 1 }]);
    const jobs = ids(5).map((id) => jobFor(id));
    await pauseWorker();
    await enqueue(jobs);

    // Act
    await setWorkerPaused(false);
    await settled();

    // Assess
    const state = await crmState<{
      requests: Array<{ operation: string; idempotencyKey?: string; status: number; faultId?: string }>;
      idempotency: Record<string, { applications: number; replays: number }>;
      records: StoredRecords;
    }>();
    const upserts = state.requests.filter((r) => r.operation === 'batchUpsert');
    const delayedKey = upserts.find((r) => r.faultId !== undefined)?.idempotencyKey ?? '';
    expect(upserts.filter((r) => r.idempotencyKey === delayedKey).length).toBeGreaterThan(1);
    expect(state.idempotency[delayedKey]?.applications).toBe(1);
    expect(Object.keys(state.records)).toHaveLength(5);
    expect(await expectNothingLost(jobs)).toEqual([]);
  });

  it('dlq:inspect shows the failures and dlq:redrive, after the cause is fixed, empties the DLQ into the CRM', async () => {
    // Prepare: the CRM rejects 12 records, which land in the DLQ
    const records = ids(30);
    const rejected = records.slice(0, 12);
    await fetch(`${stack().crmUrl}/__sandbox/record-failures`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rules: rejected.map((externalId) => ({ externalId, code: 'MISSING_MAPPING', message: 'tier mapping missing' })) }),
    });
    const jobs = records.map((id) => jobFor(id));
    await enqueue(jobs);
    await settled();
    await expectNothingLost(jobs);
    const flags = ['--queue-url', stack().queueUrl, '--dlq-url', stack().dlqUrl];
    const env = { ...process.env, AWS_ENDPOINT_URL_SQS: stack().sqsEndpoint };

    // Act 1: the operator looks
    const inspected = await run('npm', ['run', '-s', 'dlq:inspect', '--', ...flags, '--json'], { env, timeout: 60_000 });

    // Assess 1
    const report = JSON.parse(inspected.stdout) as { total: number; groups: Array<{ failureCode: string; count: number; exampleJobId: string }> };
    expect(report.total).toBe(12);
    expect(report.groups).toEqual([{ failureCode: 'MISSING_MAPPING', count: 12, exampleJobId: expect.any(String), lastFailedAt: expect.any(String) }]);
    expect(jobs.filter((job) => rejected.includes(job.record.externalId)).map((job) => job.jobId)).toContain(report.groups[0]?.exampleJobId);
    expect(inspected.stdout).not.toContain('tier');

    // Act 2: the cause is fixed, then the operator redrives
    await fetch(`${stack().crmUrl}/__sandbox/record-failures`, { method: 'DELETE' });
    const redriven = await run('npm', ['run', '-s', 'dlq:redrive', '--', ...flags], { env, timeout: 60_000 });
    await settled();

    // Assess 2
    expect(redriven.stdout).toMatch(/^Moved 12 message\(s\) from .+; 0 left in the DLQ\.$/m);
    expect(await queueDepth('dlq')).toBe(0);
    const state = await crmState<{ records: StoredRecords }>();
    expect(Object.keys(state.records).sort()).toEqual(records);
    expect(await expectNothingLost(jobs)).toEqual([]);
  });
});
