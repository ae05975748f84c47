/**
 * Enqueueing with an outbox, and the sweep that empties it: SQS faked with
 * aws-sdk-client-mock, plus a real loopback server that accepts and never answers (the
 * stall a `requestTimeout` alone does not end), the state table in memory.
 */
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildJob, EnqueueError, enqueueJobs, type CrmSyncJob } from '#lib/jobs';
import { sweepOutbox } from '#lib/jobs/sweep.ts';
import { type OutboxItem, Outbox } from '#lib/jobs/outbox.ts';
import { awsRequestHandler } from '#lib/net';
import { MemoryStateTable } from '#lib/state/table.ts';
import { startStalledServer, type ScriptedServer } from '#test/support/scripted-server.ts';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/000000000000/crm-sync';
const job = (n: number, attributes: Record<string, string> = { tier: 'gold' }): CrmSyncJob =>
  buildJob('prefill', `prefill-${String(n).padStart(32, '0')}`, {
    externalId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    attributes,
    lastInteraction: '2026-11-30T12:00:00.000Z',
    sourceUpdatedAt: '2026-11-30T12:00:00.000Z',
  });

let stalled: ScriptedServer;

beforeAll(async () => {
  stalled = await startStalledServer();
});
afterAll(() => stalled.close());

const stalledClient = () =>
  new SQSClient({
    endpoint: stalled.url,
    region: 'eu-west-1',
    useQueueUrlAsEndpoint: false,
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    requestHandler: awsRequestHandler(60_000),
  });

describe('enqueueJobs against an SQS that accepts and never answers', () => {
  it('keeps the job in the outbox within its budget and says it is pending', async () => {
    // Prepare
    const table = new MemoryStateTable();
    const client = stalledClient();
    const heldBefore = stalled.requests.length;

    // Act
    const result = await enqueueJobs([job(1, { note: 'call 555-123-4567' })], {
      queueUrl: QUEUE_URL,
      client,
      outbox: new Outbox(table),
      budgetMs: 1_500,
    });

    // Assess
    expect(stalled.requests.length).toBeGreaterThan(heldBefore);
    expect(result.pending).toEqual([job(1).jobId]);
    const kept = [...table.items.values()] as OutboxItem[];
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatchObject({ pk: `outbox#${job(1).jobId}`, jobId: job(1).jobId, source: 'prefill', outboxPk: 'outbox', attempts: 0 });
    expect(kept[0]?.body).toContain('***-***-****');
    expect(kept[0]?.body).not.toContain('555-123-4567');
    client.destroy();
  });

  it('without an outbox, names the job it could not queue (EnqueueError) instead of hanging', async () => {
    const client = stalledClient();
    const outcome = await enqueueJobs([job(2)], { queueUrl: QUEUE_URL, client, budgetMs: 800 }).catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(EnqueueError);
    expect((outcome as EnqueueError).failedJobIds).toEqual([job(2).jobId]);
    client.destroy();
  });
});

describe('enqueueJobs with SQS answering', () => {
  let sqs: AwsStub<any, any, any>;
  beforeEach(() => {
    sqs = mockClient(SQSClient);
  });
  afterEach(() => sqs.restore());

  it('sends ten per call and keeps nothing when SQS takes everything', async () => {
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: Array<{ Id: string }> }) => ({
      Successful: input.Entries.map((entry) => ({ Id: entry.Id, MessageId: `m-${entry.Id}` })),
      Failed: [],
    }));
    const table = new MemoryStateTable();
    const jobs = Array.from({ length: 12 }, (_, n) => job(n));
    const result = await enqueueJobs(jobs, { queueUrl: QUEUE_URL, client: new SQSClient({ region: 'eu-west-1' }), outbox: new Outbox(table) });
    expect(result.pending).toEqual([]);
    expect(result.messageIds.size).toBe(12);
    expect(sqs.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input.Entries?.length)).toEqual([10, 2]);
    expect(table.items.size).toBe(0);
  });

  it('keeps only the entries SQS kept refusing', async () => {
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: Array<{ Id: string; MessageAttributes: any }> }) => ({
      Successful: input.Entries.filter((e) => e.MessageAttributes.jobId.StringValue !== job(1).jobId).map((e) => ({ Id: e.Id, MessageId: 'm' })),
      Failed: input.Entries.filter((e) => e.MessageAttributes.jobId.StringValue === job(1).jobId).map((e) => ({
        Id: e.Id,
        Code: 'InternalError',
        SenderFault: false,
      })),
    }));
    const table = new MemoryStateTable();
    const result = await enqueueJobs([job(0), job(1), job(2)], {
      queueUrl: QUEUE_URL,
      client: new SQSClient({ region: 'eu-west-1' }),
      outbox: new Outbox(table),
      sleep: async () => undefined,
    });
    expect(result.pending).toEqual([job(1).jobId]);
    expect([...table.items.keys()]).toEqual([`outbox#${job(1).jobId}`]);
    expect((table.items.get(`outbox#${job(1).jobId}`) as OutboxItem).reason).toContain('InternalError');
  });

  it('fails loudly when a job is neither on the queue nor in the outbox', async () => {
    sqs.on(SendMessageBatchCommand).rejects(Object.assign(new Error('down'), { name: 'ServiceUnavailable' }));
    const broken = new MemoryStateTable();
    broken.put = async () => {
      throw new Error('DynamoDB unavailable');
    };
    const outcome = await enqueueJobs([job(3)], {
      queueUrl: QUEUE_URL,
      client: new SQSClient({ region: 'eu-west-1' }),
      outbox: new Outbox(broken),
      sleep: async () => undefined,
    }).catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(EnqueueError);
    expect((outcome as EnqueueError).failedJobIds).toEqual([job(3).jobId]);
  });
});

describe('sweepOutbox', () => {
  let sqs: AwsStub<any, any, any>;
  beforeEach(() => {
    sqs = mockClient(SQSClient);
  });
  afterEach(() => sqs.restore());

  async function outboxWith(clock: { now: number }, jobs: CrmSyncJob[]): Promise<{ table: MemoryStateTable; outbox: Outbox }> {
    const table = new MemoryStateTable(() => clock.now);
    const outbox = new Outbox(table, () => clock.now);
    await outbox.keep(
      jobs.map((j) => ({ jobId: j.jobId, source: j.source, body: JSON.stringify(j) })),
      'SQS TimeoutError',
    );
    return { table, outbox };
  }

  it('hands due jobs to SQS and removes each one SQS took', async () => {
    // Prepare
    const clock = { now: Date.parse('2026-11-30T12:00:00Z') };
    const { table, outbox } = await outboxWith(clock, [job(1), job(2)]);
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: Array<{ Id: string }> }) => ({
      Successful: input.Entries.map((entry) => ({ Id: entry.Id, MessageId: `m-${entry.Id}` })),
    }));

    // Act
    const report = await sweepOutbox(outbox, { queueUrl: QUEUE_URL, client: new SQSClient({ region: 'eu-west-1' }), budgetMs: 10_000, now: () => clock.now });

    // Assess
    expect(report).toEqual({ due: 2, sent: 2, deferred: 0, unremoved: 0 });
    expect(table.items.size).toBe(0);
    const bodies = sqs.commandCalls(SendMessageBatchCommand).flatMap((call) => call.args[0].input.Entries ?? []).map((entry) => entry.MessageBody);
    expect(bodies.map((body) => JSON.parse(body ?? '{}').jobId).sort()).toEqual([job(1).jobId, job(2).jobId]);
  });

  it('keeps what SQS still does not take, due again after a growing wait', async () => {
    // Prepare
    const clock = { now: Date.parse('2026-11-30T12:00:00Z') };
    const { table, outbox } = await outboxWith(clock, [job(1)]);
    sqs.on(SendMessageBatchCommand).rejects(Object.assign(new Error('stalled'), { name: 'TimeoutError' }));
    const client = new SQSClient({ region: 'eu-west-1' });

    // Act: a first sweep fails; a second one at once finds nothing due
    const first = await sweepOutbox(outbox, { queueUrl: QUEUE_URL, client, budgetMs: 10_000, now: () => clock.now });
    const second = await sweepOutbox(outbox, { queueUrl: QUEUE_URL, client, budgetMs: 10_000, now: () => clock.now });

    // Assess
    expect(first).toMatchObject({ due: 1, sent: 0, deferred: 1 });
    expect(second).toMatchObject({ due: 0 });
    const item = table.items.get(`outbox#${job(1).jobId}`) as OutboxItem;
    expect(item.attempts).toBe(1);
    expect(Date.parse(item.outboxDue)).toBe(clock.now + 2_000);

    // Act: SQS is back, time has passed
    sqs.reset();
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: Array<{ Id: string }> }) => ({
      Successful: input.Entries.map((entry) => ({ Id: entry.Id, MessageId: 'm' })),
    }));
    clock.now += 2_000;
    const third = await sweepOutbox(outbox, { queueUrl: QUEUE_URL, client, budgetMs: 10_000, now: () => clock.now });

    // Assess
    expect(third).toMatchObject({ due: 1, sent: 1 });
    expect(table.items.size).toBe(0);
  });
});
