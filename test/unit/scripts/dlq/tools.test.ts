/**
 * The DLQ tools against the embedded SQS server (fauxqs over HTTP): what an operator sees
 * in the queues after inspecting and redriving.
 */
import { ReceiveMessageCommand, SendMessageBatchCommand, type MessageAttributeValue } from '@aws-sdk/client-sqs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inspectDlq, NO_FAILURE_CODE, redriveDlq } from '#scripts/dlq/tools.ts';
import { resolveQueues, UsageError } from '#scripts/dlq/queues.ts';
import { startEmbeddedSqs, type EmbeddedSqs } from '#local/sqs.ts';

let sqs: EmbeddedSqs;
beforeEach(async () => {
  sqs = await startEmbeddedSqs({ queueName: 'q', dlqName: 'q-dlq', visibilityTimeoutSeconds: 30, maxReceiveCount: 5, dlqRetentionSeconds: 1_209_600 });
});
afterEach(async () => {
  await sqs.close();
});

const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });

/** Puts dead letters in the DLQ: `[jobId, failureCode | undefined]`. */
async function deadLetters(entries: Array<[string, string | undefined]>): Promise<void> {
  for (let start = 0; start < entries.length; start += 10) {
    await sqs.client.send(
      new SendMessageBatchCommand({
        QueueUrl: sqs.dlqUrl,
        Entries: entries.slice(start, start + 10).map(([jobId, code], index) => ({
          Id: String(index),
          MessageBody: JSON.stringify({ jobId, record: { attributes: { secret: 'record-content' } } }),
          MessageAttributes: {
            jobId: text(jobId),
            source: text('guest'),
            ...(code ? { failureCode: text(code), failureReason: text('why'), failedAt: text('2025-03-01T10:00:00.000Z') } : {}),
          },
        })),
      }),
    );
  }
}

/** Takes every message off a queue (for assertions). */
async function drain(queueUrl: string) {
  const all = [];
  for (;;) {
    const { Messages } = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60, MessageAttributeNames: ['All'] }));
    if (!Messages?.length) return all;
    all.push(...Messages);
  }
}

describe('inspectDlq', () => {
  it('groups by failure code with a count and an example job id, and leaves every message in place', async () => {
    // Prepare
    await deadLetters([
      ['job-1', 'VALIDATION_ERROR'],
      ['job-2', 'VALIDATION_ERROR'],
      ['job-3', 'INVALID_JOB'],
      ['job-4', undefined],
    ]);

    // Act
    const result = await inspectDlq(sqs.client, sqs.dlqUrl);

    // Assess
    expect(result.total).toBe(4);
    expect(result.groups).toEqual([
      { failureCode: 'VALIDATION_ERROR', count: 2, exampleJobId: expect.stringMatching(/^job-[12]$/), lastFailedAt: '2025-03-01T10:00:00.000Z' },
      { failureCode: NO_FAILURE_CODE, count: 1, exampleJobId: 'job-4' },
      { failureCode: 'INVALID_JOB', count: 1, exampleJobId: 'job-3', lastFailedAt: '2025-03-01T10:00:00.000Z' },
    ]);
    expect(JSON.stringify(result)).not.toContain('record-content');
    expect(await drain(sqs.dlqUrl)).toHaveLength(4);
  });

  it('reports an empty DLQ', async () => {
    expect(await inspectDlq(sqs.client, sqs.dlqUrl)).toEqual({ total: 0, groups: [] });
  });
});

describe('redriveDlq', () => {
  it('moves every message back with its body and original attributes, without the failure verdict', async () => {
    // Prepare
    await deadLetters(Array.from({ length: 23 }, (_, i): [string, string] => [`job-${i}`, 'RETRIES_EXHAUSTED']));
    const progress: number[] = [];

    // Act
    const result = await redriveDlq(sqs.client, { queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl, onProgress: (n) => progress.push(n) });

    // Assess
    expect(result).toMatchObject({ moved: 23, failed: 0, notDeleted: 0, stopped: false });
    expect(progress.at(-1)).toBe(23);
    expect(await drain(sqs.dlqUrl)).toHaveLength(0);
    const moved = await drain(sqs.queueUrl);
    expect(moved.map((m) => JSON.parse(m.Body ?? '{}').jobId).sort()).toEqual(Array.from({ length: 23 }, (_, i) => `job-${i}`).sort());
    expect(Object.keys(moved[0]?.MessageAttributes ?? {}).sort()).toEqual(['jobId', 'source']);
  });

  it('moves at most --limit messages', async () => {
    // Prepare
    await deadLetters(Array.from({ length: 15 }, (_, i): [string, string] => [`job-${i}`, 'X']));

    // Act
    const result = await redriveDlq(sqs.client, { queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl, limit: 12 });

    // Assess
    expect(result.moved).toBe(12);
    expect(await drain(sqs.queueUrl)).toHaveLength(12);
    expect(await drain(sqs.dlqUrl)).toHaveLength(3);
  });

  it('moves nothing in a dry run, and says what would move', async () => {
    // Prepare
    await deadLetters([
      ['job-1', 'A'],
      ['job-2', 'B'],
      ['job-3', 'B'],
    ]);

    // Act
    const result = await redriveDlq(sqs.client, { queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl, dryRun: true });

    // Assess
    expect(result.moved).toBe(0);
    expect(result.wouldMove.map((g) => [g.failureCode, g.count])).toEqual([
      ['B', 2],
      ['A', 1],
    ]);
    expect(await drain(sqs.queueUrl)).toHaveLength(0);
    expect(await drain(sqs.dlqUrl)).toHaveLength(3);
  });

  it('moves only the chosen failure code', async () => {
    // Prepare
    await deadLetters([
      ['job-1', 'RETRIES_EXHAUSTED'],
      ['job-2', 'INVALID_JOB'],
      ['job-3', 'RETRIES_EXHAUSTED'],
    ]);

    // Act
    const result = await redriveDlq(sqs.client, { queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl, failureCode: 'RETRIES_EXHAUSTED' });

    // Assess
    expect(result.moved).toBe(2);
    expect((await drain(sqs.dlqUrl)).map((m) => m.MessageAttributes?.['jobId']?.StringValue)).toEqual(['job-2']);
  });

  it('stops cleanly when interrupted, and a second run moves the rest: no message is lost or left behind', async () => {
    // Prepare
    await deadLetters(Array.from({ length: 25 }, (_, i): [string, string] => [`job-${i}`, 'X']));
    let groups = 0;

    // Act
    const first = await redriveDlq(sqs.client, { queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl, onProgress: () => (groups += 1), stopRequested: () => groups >= 1 });
    const second = await redriveDlq(sqs.client, { queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl });

    // Assess
    expect(first).toMatchObject({ moved: 10, stopped: true });
    expect(second.moved).toBe(15);
    expect(await drain(sqs.dlqUrl)).toHaveLength(0);
    expect(new Set((await drain(sqs.queueUrl)).map((m) => m.Body)).size).toBe(25);
  });

  it('leaves messages in the DLQ when the queue refuses them', async () => {
    // Prepare
    await deadLetters([['job-1', 'X']]);

    // Act
    const result = await redriveDlq(sqs.client, { queueUrl: `${sqs.endpoint}/000000000000/no-such-queue`, dlqUrl: sqs.dlqUrl });

    // Assess
    expect(result).toMatchObject({ moved: 0, failed: 1 });
    expect(await drain(sqs.dlqUrl)).toHaveLength(1);
  });
});

describe('resolveQueues', () => {
  let cwd: string;
  beforeEach(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'dlq-tools-'));
  });
  afterEach(async () => {
    await rm(cwd, { recursive: true, force: true });
  });

  it('finds the local stack from .local/stack.json', async () => {
    // Prepare
    await mkdir(join(cwd, '.local'));
    await writeFile(join(cwd, '.local', 'stack.json'), JSON.stringify({ sqsEndpoint: sqs.endpoint, queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl }));

    // Act
    const target = await resolveQueues({ cwd }, {});

    // Assess
    expect(target).toMatchObject({ queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl, where: 'local stack' });
    target.client.destroy();
  });

  it('takes a stage in AWS from the URL flags, with the region of the queue URL', async () => {
    // Act
    const target = await resolveQueues(
      { cwd, dlqUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/genesys-guest-sync-prod-crm-sync-dlq', queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/genesys-guest-sync-prod-crm-sync' },
      {},
    );

    // Assess
    expect(target.where).toBe('AWS');
    expect(await target.client.config.region()).toBe('eu-west-1');
    target.client.destroy();
  });

  it.each<[string, Parameters<typeof resolveQueues>[0], RegExp]>([
    ['a stage without URLs', { stage: 'prod', region: 'eu-west-1' }, /aws cloudformation describe-stacks --region eu-west-1 --stack-name genesys-guest-sync-prod/],
    ['nothing at all', {}, /npm start/],
    ['a malformed URL', { dlqUrl: 'not a url' }, /--dlq-url must be a queue URL/],
  ])('explains what to pass for %s', async (_case, options, message) => {
    await expect(resolveQueues({ cwd, ...options }, {})).rejects.toThrow(UsageError);
    await expect(resolveQueues({ cwd, ...options }, {})).rejects.toThrow(message);
  });
});
