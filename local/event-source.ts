/**
 * The local SQS event source mapping. serverless-offline does not emulate SQS triggers,
 * so the local stack polls the queue and invokes the worker the way Lambda's event
 * source mapping does: a batch is gathered until it holds `batchSize` records, the
 * batching window (counted from its first record) ends, or its payload nears Lambda's
 * 6 MB limit, as AWS documents; a real SQS event, records not named in
 * `batchItemFailures` deleted, failed ones left to become visible again after the
 * visibility timeout (and reach the DLQ by redrive), a thrown error or an unknown item
 * identifier failing the whole batch. Like a mapping it has a UUID, and it can be
 * disabled (no new batch is taken; in-flight ones finish) and enabled again.
 */
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

/** Whatever consumes a batch: the worker Lambda, or a test consumer. */
export type BatchConsumer = (event: SQSEvent) => Promise<SQSBatchResponse | void | null>;

/** Settings mirrored from the function's `sqs` event in serverless.yml. */
export interface EventSourceOptions {
  client: SQSClient;
  queueUrl: string;
  queueArn: string;
  region?: string;
  batchSize: number;
  maximumBatchingWindowSeconds?: number;
  /** Concurrent batches in flight (the mapping's maximumConcurrency). */
  maximumConcurrency?: number;
  /** `functionResponseType: ReportBatchItemFailures`. */
  reportBatchItemFailures: boolean;
  consumer: BatchConsumer;
  /** Told about every batch, for logs and tests. */
  onBatch?: (outcome: BatchOutcome) => void;
  /** The mapping's UUID (default: a random one). */
  uuid?: string;
  /**
   * The queue's visibility timeout. A gathered record is never held past half of it: AWS
   * refuses a visibility shorter than the function's timeout, but a test stack may run one,
   * and a record held past its visibility would be received again while still waiting.
   */
  visibilityTimeoutSeconds?: number;
}

/** Lambda's invocation payload limit: a batch stops growing before its records reach it. */
export const MAX_BATCH_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** SQS's largest message: a batch within this of the limit takes no more records. */
const MAX_MESSAGE_BYTES = 256 * 1024;
/** ReceiveMessage (and DeleteMessageBatch) calls one batch has in flight at once. */
export const RECEIVES_IN_PARALLEL = 5;

/** What happened to one batch. */
export interface BatchOutcome {
  size: number;
  deleted: number;
  failed: number;
  error?: string;
}

/** A running event source. */
export interface EventSource {
  /** The mapping's UUID, as `GetEventSourceMapping` names it. */
  readonly uuid: string;
  /** Stops taking new batches (in-flight ones finish), like disabling the mapping. */
  pause(): void;
  resume(): void;
  paused(): boolean;
  stop(): Promise<void>;
  /** Batches handed to the consumer; messages received from SQS (counted on receipt); deleted; handed back. */
  stats(): { batches: number; received: number; deleted: number; failed: number };
}

/** Builds the SQS event record Lambda would deliver for a received message. */
export function toSqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes['ApproximateReceiveCount'] ?? '1',
      SentTimestamp: attributes['SentTimestamp'] ?? String(Date.now()),
      SenderId: attributes['SenderId'] ?? 'local',
      ApproximateFirstReceiveTimestamp: attributes['ApproximateFirstReceiveTimestamp'] ?? String(Date.now()),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        {
          dataType: value.DataType ?? 'String',
          ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
          ...(value.BinaryValue === undefined ? {} : { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }),
          stringListValues: [],
          binaryListValues: [],
        },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/**
 * Which received messages to delete after the consumer answered: all but the reported
 * failures; none if it threw or named a message that was not in the batch.
 */
export function messagesToDelete(
  records: SQSRecord[],
  response: SQSBatchResponse | void | null,
  reportBatchItemFailures: boolean,
): SQSRecord[] {
  if (!reportBatchItemFailures || !response?.batchItemFailures) return records;
  const ids = new Set(records.map((r) => r.messageId));
  const failed = new Set<string>();
  for (const failure of response.batchItemFailures) {
    if (typeof failure?.itemIdentifier !== 'string' || !ids.has(failure.itemIdentifier)) return [];
    failed.add(failure.itemIdentifier);
  }
  return records.filter((r) => !failed.has(r.messageId));
}

/** Starts polling; `stop()` ends the loops after their in-flight batches. */
export function startEventSource(options: EventSourceOptions): EventSource {
  const region = options.region ?? 'us-east-1';
  const controller = new AbortController();
  const counters = { batches: 0, received: 0, deleted: 0, failed: 0 };
  const windowMs = Math.min((options.maximumBatchingWindowSeconds ?? 0) * 1000, ((options.visibilityTimeoutSeconds ?? Number.POSITIVE_INFINITY) * 1000) / 2);

  let isPaused = false;
  /** One ReceiveMessage call of at most `max` (≤ 10) messages. */
  const receiveOnce = async (max: number, waitSeconds: number): Promise<Message[]> => {
    const result = await options.client.send(
      new ReceiveMessageCommand({
        QueueUrl: options.queueUrl,
        MaxNumberOfMessages: max,
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: controller.signal },
    );
    const messages = result.Messages ?? [];
    // Counted when SQS hands them over (a receive spent), not when the consumer is done.
    counters.received += messages.length;
    return messages;
  };

  /**
   * Gathers one batch: waits (long polls) for a first record, then keeps receiving until
   * the batch is full, the window that began with that record ends, or the payload nears
   * 6 MB. An empty poll does not end the window. With no window, one receive is a batch.
   * After the first record, up to RECEIVES_IN_PARALLEL calls run at once (as Lambda's
   * pollers do), never asking for more than the batch has room for, in messages or in
   * bytes (each call may bring 10 messages as large as the largest seen so far).
   */
  const receive = async (): Promise<Message[]> => {
    const messages: Message[] = [];
    let bytes = 0;
    let largest = 0;
    let deadline = Number.POSITIVE_INFINITY;
    while (messages.length < options.batchSize && !controller.signal.aborted) {
      // Paused: take no new message; what is gathered already is delivered.
      if (isPaused) break;
      const left = deadline - Date.now();
      const waitSeconds = messages.length === 0 ? 1 : Math.max(0, Math.min(1, Math.ceil(left / 1000)));
      const room = options.batchSize - messages.length;
      const roomForCalls = largest === 0 ? 1 : Math.floor((MAX_BATCH_PAYLOAD_BYTES - MAX_MESSAGE_BYTES - bytes) / (10 * largest));
      const calls = messages.length === 0 ? 1 : Math.max(1, Math.min(RECEIVES_IN_PARALLEL, Math.ceil(room / 10), roomForCalls));
      const results = await Promise.all(Array.from({ length: calls }, (_, i) => receiveOnce(Math.min(10, room - i * 10), waitSeconds)));
      const received = results.flat();
      if (messages.length === 0 && received.length > 0) deadline = Date.now() + windowMs;
      messages.push(...received);
      for (const message of received) {
        const size = Buffer.byteLength(JSON.stringify(toSqsRecord(message, options.queueArn, region)));
        bytes += size;
        largest = Math.max(largest, size);
      }
      if (messages.length === 0) continue;
      if (windowMs === 0 || Date.now() >= deadline || bytes > MAX_BATCH_PAYLOAD_BYTES - MAX_MESSAGE_BYTES) break;
    }
    return messages;
  };

  /** DeleteMessageBatch calls of 10, up to RECEIVES_IN_PARALLEL at once. */
  const deleteRecords = async (records: SQSRecord[]): Promise<void> => {
    const groups: SQSRecord[][] = [];
    for (let i = 0; i < records.length; i += 10) groups.push(records.slice(i, i + 10));
    const worker = async (): Promise<void> => {
      for (let group = groups.shift(); group; group = groups.shift()) {
        await options.client.send(
          new DeleteMessageBatchCommand({
            QueueUrl: options.queueUrl,
            Entries: group.map((r, n) => ({ Id: String(n), ReceiptHandle: r.receiptHandle })),
          }),
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(RECEIVES_IN_PARALLEL, groups.length) }, worker));
  };

  /** Deletions still on their way (a batch's messages are deleted while the next one runs). */
  const deleting = new Set<Promise<void>>();

  /**
   * One poller: like Lambda's, it receives the next batch while the function runs the
   * current one, and deletes a finished batch's messages without holding up the next
   * invocation. At most one batch is gathered ahead, and none while the mapping is disabled.
   */
  const loop = async (): Promise<void> => {
    /** The batch gathered ahead, if one is on its way. */
    let ahead: Promise<Message[] | undefined> | undefined;
    const gather = (): Promise<Message[] | undefined> => receive().catch(() => undefined);
    while (!controller.signal.aborted) {
      let messages: Message[] | undefined;
      if (ahead) {
        messages = await ahead;
        ahead = undefined;
      } else if (isPaused) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      } else {
        messages = await gather();
      }
      if (messages === undefined) {
        if (controller.signal.aborted) return;
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      if (messages.length === 0) continue;
      const records = messages.map((m) => toSqsRecord(m, options.queueArn, region));
      const invocation = options.consumer({ Records: records });
      if (!isPaused && !controller.signal.aborted) ahead = gather();
      let response: SQSBatchResponse | void | null;
      let error: string | undefined;
      try {
        response = await invocation;
      } catch (cause) {
        error = cause instanceof Error ? cause.message : String(cause);
        response = { batchItemFailures: records.map((r) => ({ itemIdentifier: r.messageId })) };
      }
      const toDelete = error ? [] : messagesToDelete(records, response, options.reportBatchItemFailures);
      // Counted once the deletions are done, as before; a failed one leaves the message to
      // come back after its visibility timeout, as it would in AWS.
      const done = deleteRecords(toDelete)
        .catch(() => undefined)
        .then(() => {
          counters.batches += 1;
          counters.deleted += toDelete.length;
          counters.failed += records.length - toDelete.length;
          options.onBatch?.({ size: records.length, deleted: toDelete.length, failed: records.length - toDelete.length, ...(error ? { error } : {}) });
        });
      deleting.add(done);
      void done.finally(() => deleting.delete(done));
    }
    if (ahead) await ahead;
  };

  const loops = Array.from({ length: Math.max(1, options.maximumConcurrency ?? 1) }, () => loop());
  return {
    uuid: options.uuid ?? randomUUID(),
    pause: () => {
      isPaused = true;
    },
    resume: () => {
      isPaused = false;
    },
    paused: () => isPaused,
    stop: async () => {
      controller.abort();
      await Promise.allSettled(loops);
      await Promise.allSettled([...deleting]);
    },
    stats: () => ({ ...counters }),
  };
}
