/**
 * A CRM outage much longer than the queue's receive budget, on the local stack: the real
 * embedded SQS, the event source mapping, the worker and the control function through
 * serverless-offline, the state table in the embedded DynamoDB, and the sandbox CRM
 * answering 503 to everything for 90 s. The worker must pause (the mapping is disabled:
 * no receive is spent), the control function must resume it by itself once the CRM
 * answers, and every job must reach the CRM with none in the DLQ.
 *
 * The queue's visibility is set to 6 s for this file: the worker's local timeout, the
 * least AWS accepts for a mapping (a visibility shorter than the function's timeout
 * redelivers a batch while it is still being worked on, which Lambda refuses to set up).
 * With maxReceiveCount 5 the receive budget is 30 s; the outage lasts three times that.
 */
import { GetQueueAttributesCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CrmSyncJob } from '#lib/jobs';
import { localSqsClient } from '#local/sqs.ts';
import { expectNothingLost } from '#test/support/invariant.ts';
import { job } from '#test/support/factories.ts';
import { addFaults, crmState, enqueue, purge, queueDepth, resetSandboxes, setWorkerPaused, stack, until } from '#test/support/stack.ts';

type SourceStats = { received: number; paused: boolean };
const workerSource = async (): Promise<SourceStats> => {
  const stats = (await (await fetch(`${stack().controlUrl}/__local/event-sources`)).json()) as Record<string, SourceStats>;
  return stats['crmSync'] as SourceStats;
};

let runId = 0;
const jobs = (count: number): CrmSyncJob[] => {
  runId += 1;
  return Array.from({ length: count }, (_, i) => {
    const at = new Date(Date.UTC(2025, 2, 1, 10) + i * 1000).toISOString();
    return job({ externalId: `outage-${runId}-${String(i).padStart(3, '0')}`, at, emailHash: 'd'.repeat(64), consentFlags: null, attributes: { n: i }, enqueuedAt: new Date() });
  });
};


const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const VISIBILITY_SECONDS = 6;
const OUTAGE_MS = 3 * 5 * VISIBILITY_SECONDS * 1000;
let originalVisibility = '';

async function setVisibility(seconds: string): Promise<void> {
  const client = localSqsClient(stack().sqsEndpoint);
  try {
    await client.send(new SetQueueAttributesCommand({ QueueUrl: stack().queueUrl, Attributes: { VisibilityTimeout: seconds } }));
  } finally {
    client.destroy();
  }
}

beforeAll(async () => {
  const client = localSqsClient(stack().sqsEndpoint);
  try {
    const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: stack().queueUrl, AttributeNames: ['VisibilityTimeout'] }));
    originalVisibility = Attributes?.['VisibilityTimeout'] ?? '2';
  } finally {
    client.destroy();
  }
  await setVisibility(String(VISIBILITY_SECONDS));
});

beforeEach(async () => {
  await setWorkerPaused(true);
  await sleep(1_500);
  await purge('queue');
  await purge('dlq');
  await resetSandboxes();
  await setWorkerPaused(false);
});

afterAll(async () => {
  await setVisibility(originalVisibility);
  await resetSandboxes();
  await purge('dlq');
});

describe('a CRM outage three times longer than the receive budget', () => {
  it('pauses the event source (no receive spent), resumes by itself when the CRM answers, and ends with every job in the CRM and none in the DLQ', async () => {
    // Prepare: the CRM answers 503 to every request (upserts and lookups alike)
    await addFaults('crm', [{ status: 503 }]);
    const before = jobs(30);
    const during = jobs(20);
    const outageStarted = Date.now();

    // Act 1: jobs arrive; the worker meets the outage and the mapping is disabled
    await enqueue(before);
    await until(async () => (await workerSource()).paused, 30_000, 'the event source to be paused');
    // A poll already under way when the mapping was disabled may still deliver; then nothing.
    await sleep(2_000);
    const receivedWhenPaused = (await workerSource()).received;

    // Act 2: more jobs arrive while the CRM stays down for 90 s in all (3 x 5 receives x 6 s)
    await enqueue(during);
    const samples: SourceStats[] = [];
    while (Date.now() - outageStarted < OUTAGE_MS) {
      samples.push(await workerSource());
      await sleep(1_000);
    }

    // Act 3: the CRM comes back
    await fetch(`${stack().crmUrl}/__sandbox/faults`, { method: 'DELETE' });
    await until(async () => (await queueDepth('queue')) === 0, 60_000, 'the CRM sync queue to drain');

    // Assess: paused all along, not one receive spent while paused, resumed by itself
    expect(samples.length).toBeGreaterThan(60);
    expect(samples.every((sample) => sample.paused)).toBe(true);
    expect(samples.every((sample) => sample.received === receivedWhenPaused)).toBe(true);
    expect((await workerSource()).paused).toBe(false);
    // Every job in the CRM, none in the DLQ
    expect(await expectNothingLost([...before, ...during])).toEqual([]);
    expect(await queueDepth('dlq')).toBe(0);
    const state = await crmState<{ records: Record<string, unknown> }>();
    for (const job of [...before, ...during]) expect(state.records[job.record.externalId]).toBeDefined();
  }, 240_000);
});
