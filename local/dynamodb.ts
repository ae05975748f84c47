/**
 * The embedded DynamoDB-compatible server of the local stack (dynalite, in memory), bound
 * to 127.0.0.1, with the tables serverless.yml declares created from the same definition.
 * dynalite validates like DynamoDB (conditional writes refuse with
 * ConditionalCheckFailedException) but has no TTL sweeper: the suite's code already treats
 * items past `expiresAt` as absent, as it must in AWS, where TTL deletion is lazy.
 * dynalite has no transactions: local/dynamodb-transactions.ts adds TransactWriteItems and
 * TransactGetItems in front of it (all or nothing, isolated, idempotent by token).
 */
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { serveTransactions } from './dynamodb-transactions.ts';
import { listenOnLoopback } from './ports.ts';
import type { TableSpec } from './serverless-config.ts';

/** A running embedded DynamoDB with the stack's tables. */
export interface EmbeddedDynamoDb {
  endpoint: string;
  client: DynamoDBClient;
  /** Requests served so far by operation (`PutItem`, `TransactWriteItems`, ...): what a test counts. */
  operations(): Record<string, number>;
  close(): Promise<void>;
}

/** A DynamoDB client for a local endpoint. */
export function localDynamoDbClient(endpoint: string, region = 'us-east-1'): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
}

/** Starts dynalite on 127.0.0.1 and creates every table of `tables`. */
export async function startEmbeddedDynamoDb(tables: TableSpec[], port = 0): Promise<EmbeddedDynamoDb> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  serveTransactions(server);
  const counts: Record<string, number> = {};
  server.prependListener('request', (req) => {
    const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1];
    if (operation) counts[operation] = (counts[operation] ?? 0) + 1;
  });
  await listenOnLoopback(server, port, 'embedded DynamoDB');
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = localDynamoDbClient(endpoint);
  const close = async (): Promise<void> => {
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
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
  for (const key of Object.keys(counts)) delete counts[key];
  return { endpoint, client, operations: () => ({ ...counts }), close };
}
