/** Holding messages back and sending them again on SQS (aws-sdk-client-mock). */
import { ChangeMessageVisibilityBatchCommand, GetQueueUrlCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { holdBackMessages, resendMessages, resetQueueUrlsForTests } from '#lib/sync/requeue.ts';
import { job, jobRecord } from '#test/support/factories.ts';

const sqs = mockClient(SQSClient);
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/genesys-guest-sync-test-crm-sync';

beforeEach(() => {
  sqs.reset();
  resetQueueUrlsForTests();
  sqs.on(GetQueueUrlCommand).resolves({ QueueUrl: QUEUE_URL });
});

const records = (count: number) =>
  Array.from({ length: count }, (_, i) => {
    const record = jobRecord(job({ externalId: `guest-${i}` }), `m-${i}`, 5);
    record.eventSourceARN = 'arn:aws:sqs:eu-west-1:123456789012:genesys-guest-sync-test-crm-sync';
    return record;
  });

describe('holdBackMessages', () => {
  it('stretches the visibility of every message, ten per call, on the queue they came from', async () => {
    // Prepare
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
    const client = new SQSClient({ region: 'eu-west-1' });

    // Act
    await holdBackMessages(client, records(12), 300);

    // Assess
    const calls = sqs.commandCalls(ChangeMessageVisibilityBatchCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => [c.QueueUrl, c.Entries?.length])).toEqual([[QUEUE_URL, 10], [QUEUE_URL, 2]]);
    expect(calls[0]?.Entries?.[0]).toMatchObject({ ReceiptHandle: expect.any(String), VisibilityTimeout: 300 });
    expect(sqs.commandCalls(GetQueueUrlCommand).map((c) => c.args[0].input)).toEqual([{ QueueName: 'genesys-guest-sync-test-crm-sync' }]);
  });
});

describe('resendMessages', () => {
  it('sends the same body and attributes again, delayed, counting the resend; names what SQS refused', async () => {
    // Prepare
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [{ Id: '0', MessageId: 'new-0', MD5OfMessageBody: 'x' }], Failed: [{ Id: '1', Code: 'InternalError', SenderFault: false }] });
    const client = new SQSClient({ region: 'eu-west-1' });
    const sent = records(2);

    // Act
    const unsent = await resendMessages(client, sent, 60);

    // Assess
    expect([...unsent]).toEqual(['m-1']);
    const entry = sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.Entries?.[0];
    expect(entry).toMatchObject({
      MessageBody: sent[0]?.body,
      DelaySeconds: 60,
      MessageAttributes: {
        jobId: { DataType: 'String', StringValue: sent[0]?.messageAttributes['jobId']?.stringValue },
        resendCount: { DataType: 'Number', StringValue: '1' },
      },
    });
  });

  it('reports every message unsent when the queue cannot be found', async () => {
    // Prepare
    sqs.on(GetQueueUrlCommand).rejects(new Error('AccessDenied'));

    // Act
    const unsent = await resendMessages(new SQSClient({ region: 'eu-west-1' }), records(3), 0);

    // Assess
    expect([...unsent].sort()).toEqual(['m-0', 'm-1', 'm-2']);
  });

  it("finds the queue beside its DLQ when SQS cannot find it by name (the function's region differs from the queue's)", async () => {
    // Prepare: GetQueueUrl answers as fauxqs does for a client in another region
    sqs.on(GetQueueUrlCommand).rejects(Object.assign(new Error('The specified queue does not exist.'), { name: 'QueueDoesNotExist' }));
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [{ Id: '0', MessageId: 'new-0', MD5OfMessageBody: 'x' }], Failed: [] });
    const dlqUrl = 'https://sqs.eu-west-1.amazonaws.com/123456789012/genesys-guest-sync-test-crm-sync-dlq';

    // Act
    const unsent = await resendMessages(new SQSClient({ region: 'us-east-1' }), records(1), 5, undefined, { dlqUrl });

    // Assess
    expect([...unsent]).toEqual([]);
    expect(sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.QueueUrl)).toEqual([QUEUE_URL]);
  });
});
