/**
 * The local SQS event source mapping against the real embedded SQS server (fauxqs over
 * HTTP): messages reach the consumer as a Lambda SQS event, reported failures come back
 * after the visibility timeout and reach the DLQ by redrive, the rest are deleted.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { startEventSource, type EventSource } from '#local/event-source.ts';
import { startEmbeddedSqs, type EmbeddedSqs } from '#local/sqs.ts';

const VISIBILITY_TIMEOUT_SECONDS = 1;
const MAX_RECEIVE_COUNT = 2;

let sqs: EmbeddedSqs;
let source: EventSource | undefined;

beforeEach(async () => {
  sqs = await startEmbeddedSqs({
    queueName: 'crm-sync-test',
    dlqName: 'crm-sync-test-dlq',
    visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS,
    maxReceiveCount: MAX_RECEIVE_COUNT,
    dlqRetentionSeconds: 1_209_600,
  });
});

afterEach(async () => {
  await source?.stop();
  source = undefined;
  await sqs.close();
});

const queueArn = async (): Promise<string> =>
  (await sqs.client.send(new GetQueueAttributesCommand({ QueueUrl: sqs.queueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.['QueueArn'] ?? '';

const send = async (bodies: string[]): Promise<void> => {
  await sqs.client.send(
    new SendMessageBatchCommand({
      QueueUrl: sqs.queueUrl,
      Entries: bodies.map((body, i) => ({ Id: String(i), MessageBody: body, MessageAttributes: { source: { DataType: 'String', StringValue: 'test' } } })),
    }),
  );
};

const queueDepth = async (queueUrl: string): Promise<number> => {
  const { Attributes } = await sqs.client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(Attributes?.['ApproximateNumberOfMessages'] ?? 0) + Number(Attributes?.['ApproximateNumberOfMessagesNotVisible'] ?? 0);
};

const until = async (check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

describe('the local SQS event source mapping', () => {
  it('delivers messages as a Lambda SQS event and deletes what the consumer did not report', async () => {
    // Prepare
    const delivered: SQSRecord[] = [];
    const arn = await queueArn();
    source = startEventSource({
      client: sqs.client,
      queueUrl: sqs.queueUrl,
      queueArn: arn,
      batchSize: 10,
      reportBatchItemFailures: true,
      consumer: async (event: SQSEvent) => {
        delivered.push(...event.Records);
        return { batchItemFailures: [] };
      },
    });

    // Act
    await send(['{"n":1}', '{"n":2}', '{"n":3}']);
    await until(() => delivered.length === 3);

    // Assess
    expect(delivered.map((r) => r.body).sort()).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
    expect(delivered[0]).toMatchObject({ eventSource: 'aws:sqs', eventSourceARN: arn, messageAttributes: { source: { stringValue: 'test' } } });
    expect(delivered[0]?.attributes.ApproximateReceiveCount).toBe('1');
    await until(async () => (await queueDepth(sqs.queueUrl)) === 0);
    expect(await queueDepth(sqs.dlqUrl)).toBe(0);
  });

  it('redelivers reported failures after the visibility timeout until redrive moves them to the DLQ', async () => {
    // Prepare: the consumer fails every record whose body says so.
    const receipts = new Map<string, number>();
    source = startEventSource({
      client: sqs.client,
      queueUrl: sqs.queueUrl,
      queueArn: await queueArn(),
      batchSize: 10,
      reportBatchItemFailures: true,
      consumer: async (event): Promise<SQSBatchResponse> => {
        for (const record of event.Records) receipts.set(record.body, (receipts.get(record.body) ?? 0) + 1);
        return {
          batchItemFailures: event.Records.filter((r) => r.body.includes('fail')).map((r) => ({ itemIdentifier: r.messageId })),
        };
      },
    });

    // Act
    await send(['ok-1', 'fail-1', 'ok-2']);
    await until(async () => (await queueDepth(sqs.dlqUrl)) === 1);
    await until(async () => (await queueDepth(sqs.queueUrl)) === 0);

    // Assess: the failed record was delivered maxReceiveCount times, the others once.
    expect(receipts.get('fail-1')).toBe(MAX_RECEIVE_COUNT);
    expect(receipts.get('ok-1')).toBe(1);
    expect(receipts.get('ok-2')).toBe(1);
    const dlq = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: sqs.dlqUrl, WaitTimeSeconds: 1 }));
    expect(dlq.Messages?.map((m) => m.Body)).toEqual(['fail-1']);
  });

  it('keeps the whole batch when the consumer throws, and delivers it again', async () => {
    // Prepare: the first delivery throws, later ones succeed.
    let calls = 0;
    const seen: string[] = [];
    source = startEventSource({
      client: sqs.client,
      queueUrl: sqs.queueUrl,
      queueArn: await queueArn(),
      batchSize: 10,
      reportBatchItemFailures: true,
      consumer: async (event) => {
        calls += 1;
        if (calls === 1) throw new Error('worker crashed mid-batch');
        seen.push(...event.Records.map((r) => r.body));
        return { batchItemFailures: [] };
      },
    });

    // Act
    await send(['a', 'b']);
    await until(() => seen.length >= 2);

    // Assess
    expect(seen.sort()).toEqual(['a', 'b']);
    await until(async () => (await queueDepth(sqs.queueUrl)) === 0);
    expect(await queueDepth(sqs.dlqUrl)).toBe(0);
  });

  it('treats an unknown item identifier as a failure of the whole batch, as Lambda does', async () => {
    // Prepare
    const receipts: string[] = [];
    source = startEventSource({
      client: sqs.client,
      queueUrl: sqs.queueUrl,
      queueArn: await queueArn(),
      batchSize: 10,
      reportBatchItemFailures: true,
      consumer: async (event) => {
        receipts.push(...event.Records.map((r) => r.body));
        return { batchItemFailures: receipts.length <= 1 ? [{ itemIdentifier: 'not-in-this-batch' }] : [] };
      },
    });

    // Act
    await send(['only']);
    await until(() => receipts.length >= 2);

    // Assess: it came back although the consumer named no message of the batch.
    expect(receipts).toEqual(['only', 'only']);
  });
});
