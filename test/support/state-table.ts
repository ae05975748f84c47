/**
 * The state table as serverless.yml declares it (string key `pk`, the outbox's sparse
 * index, TTL on `expiresAt`), for tests that run a function against an embedded
 * DynamoDB-compatible server on 127.0.0.1.
 */
import { startEmbeddedDynamoDb, type EmbeddedDynamoDb } from '#local/dynamodb.ts';
import type { TableSpec } from '#local/serverless-config.ts';

/** The state table's definition under `tableName`. */
export function stateTableSpec(tableName: string): TableSpec {
  return {
    logicalId: 'StateTable',
    tableName,
    keySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    attributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'outboxPk', AttributeType: 'S' },
      { AttributeName: 'outboxDue', AttributeType: 'S' },
    ],
    globalSecondaryIndexes: [
      {
        IndexName: 'outbox',
        KeySchema: [
          { AttributeName: 'outboxPk', KeyType: 'HASH' },
          { AttributeName: 'outboxDue', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
    ttlAttribute: 'expiresAt',
  };
}

/** An embedded DynamoDB holding one state table named `tableName`. */
export function startStateTable(tableName: string): Promise<EmbeddedDynamoDb> {
  return startEmbeddedDynamoDb([stateTableSpec(tableName)]);
}
