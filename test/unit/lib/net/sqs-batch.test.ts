/**
 * The one SQS batch sender (producer and dead letters): the paths each former copy tested
 * on its own side, now true of both. SQS faked with aws-sdk-client-mock.
 */
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sendSqsBatches } from '#lib/net/sqs';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/000000000000/queue';

interface Item {
  key: string;
}
const items = (n: number): Item[] => Array.from({ length: n }, (_, i) => ({ key: `item-${i}` }));
const entry = (item: Item, id: string) => ({ Id: id, MessageBody: item.key });

let sqs: AwsStub<any, any, any>;
beforeEach(() => {
  sqs = mockClient(SQSClient);
});
afterEach(() => sqs.restore());

describe('sendSqsBatches', () => {
  it("returns SQS's message id of every item it took, and the last refusal of those it never took", async () => {
    // Prepare: item-1 is refused every time, the others are taken
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: Array<{ Id: string; MessageBody: string }> }) => ({
      Successful: input.Entries.filter((e) => e.MessageBody !== 'item-1').map((e) => ({ Id: e.Id, MessageId: `msg-${e.MessageBody}` })),
      Failed: input.Entries.filter((e) => e.MessageBody === 'item-1').map((e) => ({ Id: e.Id, Code: 'KmsThrottled', SenderFault: false })),
    }));
    const sent = items(12);

    // Act
    const result = await sendSqsBatches(sent, { queueUrl: QUEUE_URL, client: new SQSClient({ region: 'eu-west-1' }), entry, sleep: async () => undefined });

    // Assess
    expect([...result.messageIds.values()].sort()).toEqual(sent.filter((i) => i.key !== 'item-1').map((i) => `msg-${i.key}`).sort());
    expect(result.unsent).toEqual([sent[1]]);
    expect(result.reason).toBe('SQS refused an entry: KmsThrottled');
    expect(sqs.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input.Entries?.length)).toEqual([10, 2, 1, 1]);
  });

  it('without a budget (dead letters in tests), retries a failing call after 50 then 100 ms, and names the error', async () => {
    // Prepare
    sqs.on(SendMessageBatchCommand).rejects(Object.assign(new Error('down'), { name: 'ServiceUnavailable' }));
    const waits: number[] = [];

    // Act
    const result = await sendSqsBatches(items(2), {
      queueUrl: QUEUE_URL,
      client: new SQSClient({ region: 'eu-west-1' }),
      entry,
      sleep: async (ms) => void waits.push(ms),
    });

    // Assess
    expect(waits).toEqual([50, 100]);
    expect(result.unsent.map((i) => i.key)).toEqual(['item-0', 'item-1']);
    expect(result.reason).toBe('SQS ServiceUnavailable');
    expect(result.messageIds.size).toBe(0);
  });

  it('within a budget, does not wait for a retry that could not complete, and sends nothing once no time is left', async () => {
    // Prepare: a call takes 450 ms of a 500 ms budget on the clock
    const clock = { now: 1_000_000 };
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: Array<{ Id: string }> }) => {
      clock.now += 450;
      return { Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: 'm' })) };
    });
    const waits: number[] = [];

    // Act: eleven items, two calls wanted; the first leaves 50 ms, too little for the second or a retry
    const result = await sendSqsBatches(items(11), {
      queueUrl: QUEUE_URL,
      client: new SQSClient({ region: 'eu-west-1' }),
      entry,
      budgetMs: 500,
      now: () => clock.now,
      sleep: async (ms) => void waits.push(ms),
    });

    // Assess
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
    expect(waits).toEqual([]);
    expect(result.messageIds.size).toBe(10);
    expect(result.unsent.map((i) => i.key)).toEqual(['item-10']);
    expect(result.reason).toBe('no time left to send');
  });
});
