import { afterEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Message } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { messagesToDelete, startEventSource, toSqsRecord } from '#local/event-source.ts';
import type { BatchOutcome, EventSource } from '#local/event-source.ts';
import { sqsRecord } from '#test/support/factories.ts';

const QUEUE_ARN = 'arn:aws:sqs:us-east-1:000000000000:crm-sync';
const QUEUE_URL = 'http://127.0.0.1:9324/000000000000/crm-sync';

/** Three records, as the worker would receive them. */
const batch = (): SQSRecord[] => ['m-1', 'm-2', 'm-3'].map((id) => sqsRecord({ jobId: id }, id));
const ids = (records: SQSRecord[]): string[] => records.map((r) => r.messageId);
const failures = (...itemIdentifiers: unknown[]): SQSBatchResponse =>
  ({ batchItemFailures: itemIdentifiers.map((itemIdentifier) => ({ itemIdentifier })) }) as SQSBatchResponse;

describe('messagesToDelete', () => {
  it.each<{ case: string; response: SQSBatchResponse | void | null; report: boolean; deleted: string[] }>([
    { case: 'no failures reported', response: { batchItemFailures: [] }, report: true, deleted: ['m-1', 'm-2', 'm-3'] },
    { case: 'a void answer', response: undefined, report: true, deleted: ['m-1', 'm-2', 'm-3'] },
    { case: 'a null answer', response: null, report: true, deleted: ['m-1', 'm-2', 'm-3'] },
    { case: 'an answer without batchItemFailures', response: {} as SQSBatchResponse, report: true, deleted: ['m-1', 'm-2', 'm-3'] },
    { case: 'one failure', response: failures('m-2'), report: true, deleted: ['m-1', 'm-3'] },
    { case: 'two failures', response: failures('m-1', 'm-3'), report: true, deleted: ['m-2'] },
    { case: 'the same failure twice', response: failures('m-2', 'm-2'), report: true, deleted: ['m-1', 'm-3'] },
    { case: 'every message failed', response: failures('m-1', 'm-2', 'm-3'), report: true, deleted: [] },
    { case: 'an unknown item identifier', response: failures('m-2', 'm-404'), report: true, deleted: [] },
    { case: 'an empty item identifier', response: failures(''), report: true, deleted: [] },
    { case: 'a null item identifier', response: failures(null), report: true, deleted: [] },
    { case: 'a numeric item identifier', response: failures(2), report: true, deleted: [] },
    { case: 'failures without ReportBatchItemFailures', response: failures('m-2'), report: false, deleted: ['m-1', 'm-2', 'm-3'] },
    { case: 'an unknown id without ReportBatchItemFailures', response: failures('m-404'), report: false, deleted: ['m-1', 'm-2', 'm-3'] },
  ])('$case -> deletes $deleted', ({ response, report, deleted }) => {
    // Act
    const toDelete = messagesToDelete(batch(), response, report);

    // Assess
    expect(ids(toDelete)).toEqual(deleted);
  });
});

describe('toSqsRecord', () => {
  it('builds the record Lambda would deliver', () => {
    // Prepare
    const message: Message = {
      MessageId: '9b5e3f3a-0000-4000-8000-000000000001',
      ReceiptHandle: 'receipt-abc',
      Body: '{"v":1,"kind":"crm.upsert"}',
      MD5OfBody: 'd41d8cd98f00b204e9800998ecf8427e',
      Attributes: {
        ApproximateReceiveCount: '3',
        SentTimestamp: '1736937000000',
        SenderId: 'AIDAEXAMPLE',
        ApproximateFirstReceiveTimestamp: '1736937000500',
      },
      MessageAttributes: {
        reason: { DataType: 'String', StringValue: 'validation' },
        attempt: { DataType: 'Number', StringValue: '2' },
        blob: { DataType: 'Binary', BinaryValue: Uint8Array.from([1, 2, 3, 250]) },
      },
    };

    // Act
    const record = toSqsRecord(message, QUEUE_ARN, 'eu-west-1');

    // Assess
    expect(record).toEqual({
      messageId: '9b5e3f3a-0000-4000-8000-000000000001',
      receiptHandle: 'receipt-abc',
      body: '{"v":1,"kind":"crm.upsert"}',
      attributes: {
        ApproximateReceiveCount: '3',
        SentTimestamp: '1736937000000',
        SenderId: 'AIDAEXAMPLE',
        ApproximateFirstReceiveTimestamp: '1736937000500',
      },
      messageAttributes: {
        reason: { dataType: 'String', stringValue: 'validation', stringListValues: [], binaryListValues: [] },
        attempt: { dataType: 'Number', stringValue: '2', stringListValues: [], binaryListValues: [] },
        blob: { dataType: 'Binary', binaryValue: Buffer.from([1, 2, 3, 250]).toString('base64'), stringListValues: [], binaryListValues: [] },
      },
      md5OfBody: 'd41d8cd98f00b204e9800998ecf8427e',
      eventSource: 'aws:sqs',
      eventSourceARN: QUEUE_ARN,
      awsRegion: 'eu-west-1',
    });
  });

  it('fills what a sparse message lacks with sensible defaults', () => {
    // Act
    const record = toSqsRecord({ MessageId: 'm-1', ReceiptHandle: 'r-1' }, QUEUE_ARN, 'us-east-1');

    // Assess
    expect(record).toMatchObject({
      messageId: 'm-1',
      receiptHandle: 'r-1',
      body: '',
      messageAttributes: {},
      eventSource: 'aws:sqs',
      awsRegion: 'us-east-1',
    });
    expect(record.attributes.ApproximateReceiveCount).toBe('1');
    expect(record.attributes.SentTimestamp).toMatch(/^\d+$/);
    expect(record.attributes.ApproximateFirstReceiveTimestamp).toMatch(/^\d+$/);
  });
});

describe('startEventSource', () => {
  const sqs = mockClient(SQSClient);
  let source: EventSource | undefined;
  afterEach(async () => {
    await source?.stop();
    source = undefined;
    sqs.reset();
  });

  /** Serves `messages` on the first receive, then an empty queue (answering on a later turn of the event loop). */
  function queueHolding(messages: Message[]): void {
    let served = false;
    sqs.on(ReceiveMessageCommand).callsFake(async () => {
      if (!served) {
        served = true;
        return { Messages: messages };
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { Messages: [] };
    });
    sqs.on(DeleteMessageBatchCommand).resolves({ Successful: [], Failed: [] });
  }

  const message = (id: string): Message => ({ MessageId: id, ReceiptHandle: `receipt-${id}`, Body: JSON.stringify({ jobId: id }) });

  /** Starts the source and resolves with the first batch's outcome. */
  function firstBatch(options: { consumer: Parameters<typeof startEventSource>[0]['consumer']; batchSize?: number; report?: boolean }) {
    return new Promise<BatchOutcome>((resolve) => {
      source = startEventSource({
        client: new SQSClient({ region: 'us-east-1' }),
        queueUrl: QUEUE_URL,
        queueArn: QUEUE_ARN,
        batchSize: options.batchSize ?? 10,
        maximumConcurrency: 1,
        reportBatchItemFailures: options.report ?? true,
        consumer: options.consumer,
        onBatch: resolve,
      });
    });
  }

  it('delivers the batch as an SQS event and deletes all but the reported failures', async () => {
    // Prepare
    queueHolding([message('m-1'), message('m-2'), message('m-3')]);
    const delivered: string[][] = [];

    // Act
    const outcome = await firstBatch({
      consumer: async (event) => {
        delivered.push(event.Records.map((r) => r.messageId));
        return { batchItemFailures: [{ itemIdentifier: 'm-2' }] };
      },
    });

    // Assess
    expect(outcome).toEqual({ size: 3, deleted: 2, failed: 1 });
    expect(delivered).toEqual([['m-1', 'm-2', 'm-3']]);
    const deletes = sqs.commandCalls(DeleteMessageBatchCommand).map((c) => c.args[0].input);
    expect(deletes).toHaveLength(1);
    expect(deletes[0]?.QueueUrl).toBe(QUEUE_URL);
    expect(deletes[0]?.Entries?.map((e) => e.ReceiptHandle)).toEqual(['receipt-m-1', 'receipt-m-3']);
    expect(source?.stats()).toEqual({ batches: 1, received: 3, deleted: 2, failed: 1 });
  });

  it('receives the next batch while the function runs the current one, as Lambda\'s pollers do, and gathers none ahead while disabled', async () => {
    // Prepare: two batches waiting; the first invocation lasts until the second batch has been received
    const batches = [[message('m-1'), message('m-2')], [message('m-3')]];
    sqs.on(ReceiveMessageCommand).callsFake(async () => {
      const next = batches.shift();
      if (next) return { Messages: next };
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { Messages: [] };
    });
    sqs.on(DeleteMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const seenDuringFirst: number[] = [];
    const delivered: string[][] = [];
    const twoBatches = new Promise<void>((resolve) => {
      source = startEventSource({
        client: new SQSClient({ region: 'us-east-1' }),
        queueUrl: QUEUE_URL,
        queueArn: QUEUE_ARN,
        batchSize: 10,
        maximumConcurrency: 1,
        reportBatchItemFailures: true,
        consumer: async (event) => {
          delivered.push(event.Records.map((r) => r.messageId));
          if (delivered.length === 1) {
            for (let i = 0; i < 200 && (source?.stats().received ?? 0) < 3; i += 1) await new Promise((r) => setTimeout(r, 5));
            seenDuringFirst.push(source?.stats().received ?? 0);
            source?.pause();
          }
          return { batchItemFailures: [] };
        },
        onBatch: () => {
          if ((source?.stats().batches ?? 0) >= 2) resolve();
        },
      });
    });

    // Act
    await twoBatches;
    const receivesWhenDone = sqs.commandCalls(ReceiveMessageCommand).length;
    await new Promise((resolve) => setTimeout(resolve, 300));

    // Assess: the second batch was received during the first invocation; the batch gathered
    // ahead before the pause still ran; nothing was received after it
    expect(seenDuringFirst).toEqual([3]);
    expect(delivered).toEqual([['m-1', 'm-2'], ['m-3']]);
    expect(sqs.commandCalls(ReceiveMessageCommand).length).toBe(receivesWhenDone);
  });

  it('counts messages as received when SQS hands them over, while the consumer still works on them (a receive spent)', async () => {
    // Prepare: a consumer that holds its batch until released
    queueHolding([message('m-1'), message('m-2')]);
    let release: () => void = () => undefined;
    let started: () => void = () => undefined;
    const working = new Promise<void>((resolve) => {
      started = resolve;
    });

    // Act
    const outcome = firstBatch({
      consumer: async () => {
        started();
        await new Promise<void>((resolve) => {
          release = resolve;
        });
      },
    });
    await working;
    const whileWorking = source?.stats();
    release();
    await outcome;

    // Assess
    expect(whileWorking).toMatchObject({ batches: 0, received: 2 });
    expect(source?.stats()).toMatchObject({ batches: 1, received: 2, deleted: 2 });
  });

  it('deletes nothing when the consumer throws, so every message comes back', async () => {
    // Prepare
    queueHolding([message('m-1'), message('m-2')]);

    // Act
    const outcome = await firstBatch({
      consumer: async () => {
        throw new Error('worker crashed');
      },
    });

    // Assess
    expect(outcome).toEqual({ size: 2, deleted: 0, failed: 2, error: 'worker crashed' });
    expect(sqs.commandCalls(DeleteMessageBatchCommand).flatMap((c) => c.args[0].input.Entries ?? [])).toEqual([]);
  });

  it('asks for at most batchSize messages, and never more than SQS allows (10)', async () => {
    // Prepare
    queueHolding([message('m-1')]);

    // Act
    await firstBatch({ batchSize: 4, consumer: async () => undefined });

    // Assess
    const first = sqs.commandCalls(ReceiveMessageCommand)[0]?.args[0].input;
    expect(first).toMatchObject({ QueueUrl: QUEUE_URL, MaxNumberOfMessages: 4, MessageAttributeNames: ['All'] });
  });

  it('stops polling an empty queue once paused, so a message sent afterwards stays queued', async () => {
    // Prepare: an empty queue; each receive waits a little, like a short long-poll.
    let receives = 0;
    sqs.on(ReceiveMessageCommand).callsFake(async () => {
      receives += 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { Messages: [] };
    });
    const delivered: string[] = [];
    source = startEventSource({
      client: new SQSClient({ region: 'us-east-1' }),
      queueUrl: QUEUE_URL,
      queueArn: QUEUE_ARN,
      batchSize: 10,
      maximumConcurrency: 2,
      reportBatchItemFailures: true,
      consumer: async (event) => {
        delivered.push(...event.Records.map((r) => r.messageId));
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 30));

    // Act: pause, let in-flight polls end, then a message arrives.
    source.pause();
    await new Promise((resolve) => setTimeout(resolve, 30));
    const receivesWhenPaused = receives;
    sqs.on(ReceiveMessageCommand).resolves({ Messages: [message('late')] });
    await new Promise((resolve) => setTimeout(resolve, 300));

    // Assess
    expect(receives).toBe(receivesWhenPaused);
    expect(delivered).toEqual([]);
  });

  describe('gathering a batch, as Lambda does (until full, the window ends, or 6 MB)', () => {
    /** Serves the scripted answers in turn, then an empty queue; empty answers take a moment, like a long poll. */
    function scripted(answers: Message[][]): void {
      let turn = 0;
      sqs.on(ReceiveMessageCommand).callsFake(async () => {
        const answer = answers[turn] ?? [];
        turn += 1;
        await new Promise((resolve) => setTimeout(resolve, answer.length === 0 ? 20 : 1));
        return { Messages: answer };
      });
      sqs.on(DeleteMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    }

    function firstBatchOf(options: { batchSize: number; windowSeconds: number; visibilitySeconds?: number }): Promise<string[]> {
      return new Promise((resolve) => {
        source = startEventSource({
          client: new SQSClient({ region: 'us-east-1' }),
          queueUrl: QUEUE_URL,
          queueArn: QUEUE_ARN,
          batchSize: options.batchSize,
          maximumBatchingWindowSeconds: options.windowSeconds,
          ...(options.visibilitySeconds === undefined ? {} : { visibilityTimeoutSeconds: options.visibilitySeconds }),
          maximumConcurrency: 1,
          reportBatchItemFailures: true,
          consumer: async (event) => resolve(event.Records.map((r) => r.messageId)),
        });
      });
    }

    it('keeps gathering through empty polls until the window ends', async () => {
      // Prepare: one message, an empty poll, two more messages, all within the 1 s window
      scripted([[message('m-1')], [], [message('m-2'), message('m-3')]]);

      // Act
      const delivered = await firstBatchOf({ batchSize: 10, windowSeconds: 1 });

      // Assess
      expect(delivered).toEqual(['m-1', 'm-2', 'm-3']);
    });

    it('invokes at once when the batch is full, without waiting for the window', async () => {
      // Prepare
      scripted([[message('m-1'), message('m-2')], [message('m-3')], [message('m-4')]]);

      // Act: a 60 s window that must not be waited out
      const delivered = await firstBatchOf({ batchSize: 3, windowSeconds: 60 });

      // Assess
      expect(delivered).toEqual(['m-1', 'm-2', 'm-3']);
      expect(sqs.commandCalls(ReceiveMessageCommand)[1]?.args[0].input.MaxNumberOfMessages).toBe(1);
    });

    it('stops before the payload reaches 6 MB', async () => {
      // Prepare: 300 KB messages, ten per poll
      const big = (id: string): Message => ({ ...message(id), Body: 'x'.repeat(300 * 1024) });
      scripted(Array.from({ length: 5 }, (_, poll) => Array.from({ length: 10 }, (_, i) => big(`m-${poll * 10 + i}`))));

      // Act
      const delivered = await firstBatchOf({ batchSize: 100, windowSeconds: 60 });

      // Assess: 20 records (about 6 MB); a third poll would pass the limit
      expect(delivered).toHaveLength(20);
    });

    it('gathers a large batch with receives in parallel, as the pollers of a mapping do, and never takes more than batchSize', async () => {
      // Prepare: a backlog of 100 messages; each receive takes a moment and hands out what is asked for
      const backlog = Array.from({ length: 100 }, (_, i) => message(`m-${i}`));
      let inFlight = 0;
      let mostInFlight = 0;
      sqs.on(ReceiveMessageCommand).callsFake(async (input: { MaxNumberOfMessages?: number }) => {
        inFlight += 1;
        mostInFlight = Math.max(mostInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 10));
        inFlight -= 1;
        return { Messages: backlog.splice(0, input.MaxNumberOfMessages ?? 1) };
      });
      sqs.on(DeleteMessageBatchCommand).resolves({ Successful: [], Failed: [] });

      // Act
      const delivered = await firstBatchOf({ batchSize: 35, windowSeconds: 60 });

      // Assess: exactly the first 35, each once; the 65 others still queued
      expect(delivered).toEqual(Array.from({ length: 35 }, (_, i) => `m-${i}`));
      expect(backlog).toHaveLength(65);
      expect(mostInFlight).toBeGreaterThan(1);
    });

    it('never holds a gathered record past half its visibility timeout (a test stack may run one shorter than the window)', async () => {
      // Prepare: one record, then an empty queue; a 60 s window over a 2 s visibility
      scripted([[message('m-1')]]);

      // Act
      const delivered = await firstBatchOf({ batchSize: 10, windowSeconds: 60, visibilitySeconds: 2 });

      // Assess: delivered after about 1 s, not 60
      expect(delivered).toEqual(['m-1']);
      expect(sqs.commandCalls(ReceiveMessageCommand).length).toBeLessThan(60);
    });

    it('gets a UUID, as a mapping does', () => {
      // Prepare
      scripted([]);

      // Act
      source = startEventSource({
        client: new SQSClient({ region: 'us-east-1' }),
        queueUrl: QUEUE_URL,
        queueArn: QUEUE_ARN,
        batchSize: 10,
        reportBatchItemFailures: true,
        consumer: async () => undefined,
        uuid: '6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b',
      });

      // Assess
      expect(source.uuid).toBe('6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b');
    });
  });
});
