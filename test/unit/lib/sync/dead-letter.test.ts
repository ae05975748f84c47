import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { deadLetterEntry, sendDeadLetters, type DeadLetter } from '#lib/sync/dead-letter.ts';
import { job, jobRecord, sqsRecord } from '#test/support/factories.ts';

const sqs = mockClient(SQSClient);
afterEach(() => sqs.reset());

const failedAt = new Date('2025-03-01T10:00:00.000Z');
const letterFor = (messageId: string, code = 'VALIDATION_ERROR', reason = 'bad record'): DeadLetter => {
  const guest = job({ externalId: messageId });
  return { message: jobRecord(guest, messageId), code, reason, jobId: guest.jobId };
};

describe('deadLetterEntry', () => {
  it('keeps the original body and attributes and adds the failure attributes', () => {
    // Prepare
    const letter = letterFor('m-1');

    // Act
    const entry = deadLetterEntry(letter, '0', failedAt);

    // Assess
    expect(entry.MessageBody).toBe(letter.message.body);
    expect(entry.MessageAttributes).toEqual({
      source: { DataType: 'String', StringValue: 'guest' },
      jobId: { DataType: 'String', StringValue: letter.jobId },
      failureCode: { DataType: 'String', StringValue: 'VALIDATION_ERROR' },
      failureReason: { DataType: 'String', StringValue: 'bad record' },
      failedAt: { DataType: 'String', StringValue: '2025-03-01T10:00:00.000Z' },
    });
  });

  it.each<[string, string, (value: string) => void]>([
    ['masks identifiers in the reason', 'rejected jane.doe@example.com and 555-123-4567', (value) => expect(value).not.toMatch(/jane|555-123/)],
    ['bounds the reason', 'x'.repeat(2_000), (value) => expect(value.length).toBeLessThanOrEqual(500)],
    ['never leaves the reason empty', '', (value) => expect(value).toBe('no reason given')],
  ])('%s', (_case, reason, check) => {
    // Act
    const entry = deadLetterEntry(letterFor('m-1', 'X', reason), '0', failedAt);

    // Assess
    check(entry.MessageAttributes?.['failureReason']?.StringValue ?? '');
  });

  it('replaces failure attributes from an earlier trip to the DLQ', () => {
    // Prepare
    const letter = letterFor('m-1', 'NEW_CODE');
    letter.message.messageAttributes['failureCode'] = { dataType: 'String', stringValue: 'OLD_CODE', stringListValues: [], binaryListValues: [] };

    // Act
    const entry = deadLetterEntry(letter, '0', failedAt);

    // Assess
    expect(entry.MessageAttributes?.['failureCode']?.StringValue).toBe('NEW_CODE');
  });

  it('names an unreadable message by its message id', () => {
    // Act
    const entry = deadLetterEntry({ message: sqsRecord('garbage', 'm-9'), code: 'INVALID_JOB', reason: 'not JSON' }, '0', failedAt);

    // Assess
    expect(entry.MessageAttributes?.['jobId']?.StringValue).toBe('unknown:m-9');
  });

  it('stays within the ten attributes SQS allows', () => {
    // Prepare
    const letter = letterFor('m-1');
    for (let i = 0; i < 12; i += 1) {
      letter.message.messageAttributes[`extra${i}`] = { dataType: 'String', stringValue: String(i), stringListValues: [], binaryListValues: [] };
    }

    // Act
    const entry = deadLetterEntry(letter, '0', failedAt);

    // Assess
    expect(Object.keys(entry.MessageAttributes ?? {})).toHaveLength(10);
    expect(entry.MessageAttributes).toHaveProperty('failureCode');
  });
});

describe('sendDeadLetters', () => {
  const options = { queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq', client: new SQSClient({ region: 'eu-west-1' }), sleep: async () => undefined, now: () => failedAt };

  it('sends ten per call to the DLQ and reports nothing undelivered', async () => {
    // Prepare
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: Array<{ Id: string }> }) => ({ Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: 'x' })), Failed: [] }));
    const letters = Array.from({ length: 23 }, (_, i) => letterFor(`m-${i}`));

    // Act
    const undelivered = await sendDeadLetters(letters, options);

    // Assess
    expect(undelivered.size).toBe(0);
    const calls = sqs.commandCalls(SendMessageBatchCommand);
    expect(calls.map((c) => c.args[0].input.Entries?.length)).toEqual([10, 10, 3]);
    expect(calls.every((c) => c.args[0].input.QueueUrl === options.queueUrl)).toBe(true);
  });

  it('retries entries SQS refused, and names those it never took', async () => {
    // Prepare: entry 1 is refused every time, entry 0 once
    let call = 0;
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: Array<{ Id: string; MessageAttributes: Record<string, { StringValue: string }> }> }) => {
      call += 1;
      const refused = input.Entries.filter((e) => e.MessageAttributes['jobId']?.StringValue === letters[1]?.jobId || (call === 1 && e.Id === '0'));
      return { Successful: [], Failed: refused.map((e) => ({ Id: e.Id, Code: 'InternalError', SenderFault: false })) };
    });
    const letters = [letterFor('m-0'), letterFor('m-1')];

    // Act
    const undelivered = await sendDeadLetters(letters, options);

    // Assess
    expect([...undelivered]).toEqual(['m-1']);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(3);
  });

  it('names every letter when SQS cannot be reached', async () => {
    // Prepare
    sqs.on(SendMessageBatchCommand).rejects(new Error('connect ECONNREFUSED'));

    // Act
    const undelivered = await sendDeadLetters([letterFor('m-0'), letterFor('m-1')], options);

    // Assess
    expect([...undelivered].sort()).toEqual(['m-0', 'm-1']);
  });
});

describe('sendDeadLetters under a deadline', () => {
  it('gives up on a call that never answers and names its letters, within the time it was given', async () => {
    // Prepare: SQS accepts the connection and never answers
    sqs.on(SendMessageBatchCommand).callsFake(() => new Promise(() => undefined));
    const client = new SQSClient({ region: 'eu-west-1' });

    // Act
    const undelivered = await sendDeadLetters([letterFor('m-0')], { queueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/dlq', client, timeoutMs: 300 });

    // Assess
    expect([...undelivered]).toEqual(['m-0']);
  });
});
