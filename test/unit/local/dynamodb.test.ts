/**
 * The embedded DynamoDB as the local stack and the tests use it: on a thread of its own, it
 * answers while the thread that started it is busy, serves transactions all or nothing,
 * counts every request by operation (and only its own), refuses a taken port by name, and
 * is gone once closed.
 */
import { createServer, type Server } from 'node:http';
import { Worker } from 'node:worker_threads';
import {
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  TransactionCanceledException,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedDynamoDb, type EmbeddedDynamoDb } from '../../../local/dynamodb.ts';
import { PortInUseError } from '../../../local/ports.ts';
import { freePort } from '../../../local/stack.ts';
import { serverThreadLoads } from '../../../local/threads.ts';
import { startStateTable, stateTableSpec } from '../../support/state-table.ts';
import { rejectionOf } from '#test/support/rejection.ts';

const TABLE = 'unit-embedded-dynamodb';
const s = (value: string): AttributeValue => ({ S: value });

let dynamo: EmbeddedDynamoDb;
beforeAll(async () => {
  dynamo = await startStateTable(TABLE);
});
afterAll(async () => {
  await dynamo.close();
});

/** Requests served since `before`, by operation. */
function servedSince(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([operation, count]) => [operation, count - (before[operation] ?? 0)]).filter(([, count]) => count !== 0));
}

/**
 * Asks `endpoint` for its tables from another thread while this one is blocked (Atomics.wait),
 * the way serverless-offline's functions and the event source reach it while the stack's main
 * thread is busy. Resolves with the HTTP status and table names, or 'no answer' after `waitMs`.
 */
function listTablesWhileBlocked(endpoint: string, waitMs: number): { answered: boolean; status: number; tables: string[] } {
  const signal = new Int32Array(new SharedArrayBuffer(4));
  const result = new Uint8Array(new SharedArrayBuffer(1024));
  const asker = new Worker(
    `
    const { workerData } = require('node:worker_threads');
    const { endpoint, signal, result } = workerData;
    fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.ListTables',
        'x-amz-date': '20000101T000000Z',
        authorization: 'AWS4-HMAC-SHA256 Credential=local/20000101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=local',
      },
      body: '{}',
    })
      .then(async (response) => JSON.stringify({ status: response.status, body: await response.json() }))
      .catch((error) => JSON.stringify({ status: 0, body: { error: String(error) } }))
      .then((text) => {
        new TextEncoder().encodeInto(text, new Uint8Array(result.buffer));
        Atomics.store(new Int32Array(signal.buffer), 0, 1);
        Atomics.notify(new Int32Array(signal.buffer), 0);
      });
    `,
    { eval: true, workerData: { endpoint, signal, result } },
  );
  // Blocks this thread: nothing on it (a server included) runs until the asker is answered.
  const outcome = Atomics.wait(signal, 0, 0, waitMs);
  void asker.terminate();
  if (outcome === 'timed-out') return { answered: false, status: 0, tables: [] };
  const text = new TextDecoder().decode(result).replace(/\0+$/, '');
  const { status, body } = JSON.parse(text) as { status: number; body: { TableNames?: string[] } };
  return { answered: true, status, tables: body.TableNames ?? [] };
}

describe('the embedded DynamoDB on its own thread', () => {
  it('answers other threads while the thread that started it is busy', () => {
    // Prepare
    const before = serverThreadLoads().find((load) => load.what === 'embedded DynamoDB');

    // Act
    const seen = listTablesWhileBlocked(dynamo.endpoint, 10_000);

    // Assess: answered, and its own thread (listed with how busy it was) did the work.
    expect(seen).toEqual({ answered: true, status: 200, tables: [TABLE] });
    const since = serverThreadLoads(before ? [before] : []).find((load) => load.what === 'embedded DynamoDB');
    expect(since?.utilization).toBeGreaterThan(0);
  });

  it('applies a transaction all or nothing, and counts each request by operation', async () => {
    // Prepare: one item already there, so a transaction creating it again is cancelled.
    const [taken, fresh] = [`taken-${Date.now()}`, `fresh-${Date.now()}`];
    await dynamo.client.send(new PutItemCommand({ TableName: TABLE, Item: { pk: s(taken), state: s('first') } }));
    const claim = (pk: string) => ({ Put: { TableName: TABLE, Item: { pk: s(pk), state: s('claimed') }, ConditionExpression: 'attribute_not_exists(pk)' } });
    const before = dynamo.operations();

    // Act
    const refused = await rejectionOf(dynamo.client.send(new TransactWriteItemsCommand({ TransactItems: [claim(fresh), claim(taken)] })));
    const readFresh = await dynamo.client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: s(fresh) }, ConsistentRead: true }));
    const readTaken = await dynamo.client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: s(taken) }, ConsistentRead: true }));
    await dynamo.client.send(new TransactWriteItemsCommand({ TransactItems: [claim(fresh)] }));
    const after = dynamo.operations();

    // Assess: nothing of the cancelled one was written; the counts are exactly what was sent.
    expect(refused).toBeInstanceOf(TransactionCanceledException);
    expect((refused as TransactionCanceledException).CancellationReasons?.map((reason) => reason.Code)).toEqual(['None', 'ConditionalCheckFailed']);
    expect(readFresh.Item).toBeUndefined();
    expect(readTaken.Item?.['state']).toEqual(s('first'));
    expect(servedSince(before, after)).toEqual({ TransactWriteItems: 2, GetItem: 2 });
  });

  it('counts nothing before the first request after its tables exist, and only its own requests', async () => {
    // Prepare
    const other = await startEmbeddedDynamoDb([stateTableSpec('unit-embedded-other')]);
    try {
      const ours = dynamo.operations();

      // Act
      const fresh = other.operations();
      await other.client.send(new PutItemCommand({ TableName: 'unit-embedded-other', Item: { pk: s('one') } }));

      // Assess: CreateTable is not counted; the other server's request is not ours.
      expect(fresh).toEqual({});
      expect(other.operations()).toEqual({ PutItem: 1 });
      expect(dynamo.operations()).toEqual(ours);
    } finally {
      await other.close();
    }
  });

  it('refuses a taken port with an error naming it', async () => {
    // Prepare
    const port = await freePort();
    const holder: Server = createServer();
    await new Promise<void>((done) => holder.listen(port, '127.0.0.1', () => done()));

    try {
      // Act
      const error = await rejectionOf(startEmbeddedDynamoDb([stateTableSpec('unit-embedded-port')], port));

      // Assess
      expect(error).toBeInstanceOf(PortInUseError);
      expect(error.message).toBe(`embedded DynamoDB: port ${port} on 127.0.0.1 is already in use`);
    } finally {
      await new Promise<void>((done) => holder.close(() => done()));
    }
  });

  it('stops listening once closed, and its thread ends', async () => {
    // Prepare
    const closing = await startEmbeddedDynamoDb([stateTableSpec('unit-embedded-closed')]);
    const threadsBefore = process.getActiveResourcesInfo().filter((name) => name === 'MessagePort').length;
    const listedBefore = serverThreadLoads().filter((load) => load.what === 'embedded DynamoDB').length;

    // Act
    await closing.close();

    // Assess: the port refuses connections, and the thread's message port is gone.
    const refused = await rejectionOf(fetch(closing.endpoint, { method: 'POST' }));
    expect((refused.cause as NodeJS.ErrnoException | undefined)?.code).toBe('ECONNREFUSED');
    expect(process.getActiveResourcesInfo().filter((name) => name === 'MessagePort').length).toBe(threadsBefore - 1);
    expect(serverThreadLoads().filter((load) => load.what === 'embedded DynamoDB').length).toBe(listedBefore - 1);
  });
});
