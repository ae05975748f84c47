/**
 * The embedded DynamoDB-compatible server of the local stack (dynalite, in memory), bound
 * to 127.0.0.1, with the tables serverless.yml declares created from the same definition.
 * dynalite validates like DynamoDB (conditional writes refuse with
 * ConditionalCheckFailedException) but has no TTL sweeper: the suite's code already treats
 * items past `expiresAt` as absent, as it must in AWS, where TTL deletion is lazy.
 * dynalite has no transactions: local/dynamodb-transactions.ts adds TransactWriteItems and
 * TransactGetItems in front of it (all or nothing, isolated, idempotent by token).
 *
 * The server runs on a worker thread of its own (local/dynamodb-thread.ts, local/threads.ts),
 * not on the thread that starts it: dynalite's work per request (validation, expressions,
 * its in-memory LevelDB) would otherwise compete with everything else on the stack's main
 * thread. Its request counts live in memory both threads share, so `operations()` reads
 * them without a round trip.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { TableSpec } from './serverless-config.ts';
import { startServerThread } from './threads.ts';

/** A running embedded DynamoDB with the stack's tables. */
export interface EmbeddedDynamoDb {
  endpoint: string;
  client: DynamoDBClient;
  /** Requests served so far by operation (`PutItem`, `TransactWriteItems`, ...): what a test counts. */
  operations(): Record<string, number>;
  close(): Promise<void>;
}

/** The DynamoDB operations whose requests are counted (every one dynalite and the transactions front serve). */
export const COUNTED_OPERATIONS = [
  'BatchGetItem',
  'BatchWriteItem',
  'CreateTable',
  'DeleteItem',
  'DeleteTable',
  'DescribeTable',
  'DescribeTimeToLive',
  'GetItem',
  'ListTables',
  'ListTagsOfResource',
  'PutItem',
  'Query',
  'Scan',
  'TagResource',
  'TransactGetItems',
  'TransactWriteItems',
  'UntagResource',
  'UpdateItem',
  'UpdateTable',
] as const;

/** A DynamoDB client for a local endpoint. */
export function localDynamoDbClient(endpoint: string, region = 'us-east-1'): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
}

/** Starts dynalite on its own thread, on 127.0.0.1, and creates every table of `tables`. */
export async function startEmbeddedDynamoDb(tables: TableSpec[], port = 0): Promise<EmbeddedDynamoDb> {
  const counters = new SharedArrayBuffer(COUNTED_OPERATIONS.length * Int32Array.BYTES_PER_ELEMENT);
  const counts = new Int32Array(counters);
  const thread = await startServerThread(new URL('./dynamodb-thread.ts', import.meta.url), 'embedded DynamoDB', port, {
    counters,
    operations: [...COUNTED_OPERATIONS],
  });
  const endpoint = `http://127.0.0.1:${thread.port}`;
  const client = localDynamoDbClient(endpoint);
  const close = async (): Promise<void> => {
    client.destroy();
    await thread.close();
  };
  try {
    for (const table of tables) {
      await client.send(
        new CreateTableCommand({
          TableName: table.tableName,
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: table.keySchema,
          AttributeDefinitions: table.attributeDefinitions,
          ...(table.globalSecondaryIndexes.length > 0 ? { GlobalSecondaryIndexes: table.globalSecondaryIndexes } : {}),
        }),
      );
    }
  } catch (error) {
    await close();
    throw error;
  }
  // What the tests count starts after the tables exist.
  counts.fill(0);
  const operations = (): Record<string, number> => {
    const served: Record<string, number> = {};
    COUNTED_OPERATIONS.forEach((operation, index) => {
      const count = Atomics.load(counts, index);
      if (count > 0) served[operation] = count;
    });
    return served;
  };
  return { endpoint, client, operations, close };
}
