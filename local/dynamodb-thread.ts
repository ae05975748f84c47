/**
 * The embedded DynamoDB's own thread (started by `startEmbeddedDynamoDb`, local/dynamodb.ts):
 * dynalite with the transactions front (local/dynamodb-transactions.ts) and its expressions
 * parsed once per distinct text (local/dynalite-expressions.ts), listening on
 * 127.0.0.1, counting each request by operation in the counters it shares with the parent.
 */
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { rememberDynaliteExpressions } from './dynalite-expressions.ts';
import { serveTransactions } from './dynamodb-transactions.ts';
import { listenOnLoopback } from './ports.ts';
import { serveFromThread, threadData } from './threads.ts';

const { counters, operations } = threadData<{ counters: SharedArrayBuffer; operations: string[] }>();
const counts = new Int32Array(counters);
const slot = new Map(operations.map((operation, index) => [operation, index]));

serveFromThread(async (port) => {
  rememberDynaliteExpressions();
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  serveTransactions(server);
  server.prependListener('request', (req) => {
    const index = slot.get(String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '');
    if (index !== undefined) Atomics.add(counts, index, 1);
  });
  await listenOnLoopback(server, port, 'embedded DynamoDB');
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
});
