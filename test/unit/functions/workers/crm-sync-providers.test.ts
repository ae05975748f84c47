/**
 * The CRM sync worker as Lambda runs it (the whole middy stack) with each CRM_PROVIDER,
 * against that provider's sandbox, the local Secrets Manager and an embedded DynamoDB
 * holding the state table: jobs reach the provider's records, an older job redriven after
 * a newer one never overwrites it, and a redelivered batch is not written twice.
 */
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startEmbeddedDynamoDb, type EmbeddedDynamoDb } from '#local/dynamodb.ts';
import { startCrmProviderSandbox } from '#local/sandbox/crm-providers/index.ts';
import { startLocalSecretsManager, type LocalSecretsManager } from '#local/secrets-manager.ts';
import { captureOutput, freshHandler, lambdaContext, type CapturedOutput } from '#test/support/lambda.ts';
import { job, jobRecord, sqsEvent } from '#test/support/factories.ts';
import { PROVIDER_BATCH_LIMITS } from '#lib/crm/adapter.ts';

const SECRET_ID = 'test/crm-credentials';
const DLQ_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/genesys-guest-sync-test-crm-sync-dlq';
const TABLE = { logicalId: 'StateTable', tableName: 'unit-worker-state', keySchema: [{ AttributeName: 'pk', KeyType: 'HASH' as const }], attributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' as const }], globalSecondaryIndexes: [] };
const sqs = mockClient(SQSClient);

type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
interface Started {
  url: string;
  close(): Promise<void>;
  state(): { records: Record<string, { externalId?: string; writes: number; history: string[] }> };
}
interface ProviderCase {
  provider: 'hubspot' | 'salesforce' | 'dynamics';
  start(): Promise<Started>;
  secret(url: string): Record<string, string>;
  env(url: string): Record<string, string>;
}

const cases: ProviderCase[] = [
  {
    provider: 'hubspot',
    start: () => startCrmProviderSandbox('hubspot', { accessToken: 'pat-1' }),
    secret: () => ({ accessToken: 'pat-1' }),
    env: (url) => ({ CRM_BASE_URL: url, HUBSPOT_ID_PROPERTY: 'guest_sync_external_id' }),
  },
  {
    provider: 'salesforce',
    start: () => startCrmProviderSandbox('salesforce', { clientId: 'sf-client', clientSecret: 'sf-secret' }),
    secret: (url) => ({ clientId: 'sf-client', clientSecret: 'sf-secret', loginUrl: url }),
    env: () => ({ SALESFORCE_EXTERNAL_ID_FIELD: 'GS_External_Id__c' }),
  },
  {
    provider: 'dynamics',
    start: () => startCrmProviderSandbox('dynamics', { tenantId: 'tenant-1', clientId: 'd-client', clientSecret: 'd-secret' }),
    secret: () => ({ tenantId: 'tenant-1', clientId: 'd-client', clientSecret: 'd-secret' }),
    env: (url) => ({ DYNAMICS_URL: url, DYNAMICS_ALTERNATE_KEY: 'gs_externalid', CRM_TOKEN_URL: `${url}/{tenantId}/oauth2/v2.0/token` }),
  },
];

let dynamo: EmbeddedDynamoDb;
let output: CapturedOutput;
beforeAll(async () => {
  dynamo = await startEmbeddedDynamoDb([TABLE]);
});
afterAll(async () => {
  await dynamo.close();
});
afterEach(() => {
  output?.restore();
  vi.unstubAllEnvs();
});

async function coldStart(env: Record<string, string>): Promise<Handler> {
  return freshHandler<Handler>(() => import('#functions/workers/crm-sync.ts'), env);
}

/** The worker cold-started against `provider`'s sandbox, the local Secrets Manager and the embedded state table. */
function workerFor({ provider, env }: Pick<ProviderCase, 'provider' | 'env'>, sandboxUrl: string, secretsEndpoint: string): Promise<Handler> {
  return coldStart({
    CRM_PROVIDER: provider,
    ...env(sandboxUrl),
    CRM_CREDENTIALS_SECRET_ID: SECRET_ID,
    CRM_SYNC_DLQ_URL: DLQ_URL,
    STATE_TABLE_NAME: TABLE.tableName,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsEndpoint,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
}

describe.each(cases)('the worker with CRM_PROVIDER=$provider', ({ provider, start, secret, env }) => {
  it('reads the versions of a 100-record batch in one call and writes its claims and confirmations in two, one record at a time in none', async () => {
    // Prepare
    const sandbox = await start();
    const secrets: LocalSecretsManager = await startLocalSecretsManager({ [SECRET_ID]: secret(sandbox.url) });
    sqs.reset();
    output = captureOutput();
    try {
      const handler = await workerFor({ provider, env }, sandbox.url, secrets.endpoint);
      const prefix = `guest-${provider}-many-${Date.now()}`;
      const batch = sqsEvent(...Array.from({ length: 100 }, (_, i) => jobRecord(job({ externalId: `${prefix}-${i}`, at: '2026-03-01T09:00:30.000Z' }), `m-${i}`)));
      const before = dynamo.operations();

      // Act
      const result = await handler(batch, lambdaContext());

      // Assess
      const after = dynamo.operations();
      const made = (operation: string) => (after[operation] ?? 0) - (before[operation] ?? 0);
      expect(result).toEqual({ batchItemFailures: [] });
      expect(Object.values(sandbox.state().records).filter((r) => r.externalId?.startsWith(prefix))).toHaveLength(100);
      expect(made('BatchGetItem')).toBe(1);
      expect(made('TransactWriteItems')).toBe(2);
      // What is left of PutItem is the finished-chunk records (Powertools idempotency), never one per record.
      expect(made('PutItem')).toBeLessThanOrEqual(Math.ceil(100 / PROVIDER_BATCH_LIMITS[provider]) * 2);
    } finally {
      await secrets.close();
      await sandbox.close();
    }
  });

  it('upserts the newest version, ignores an older one redriven later, and does not write a redelivered batch twice', async () => {
    // Prepare
    const sandbox = await start();
    const secrets: LocalSecretsManager = await startLocalSecretsManager({ [SECRET_ID]: secret(sandbox.url) });
    sqs.reset();
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    output = captureOutput();
    try {
      const handler = await workerFor({ provider, env }, sandbox.url, secrets.endpoint);
      const externalId = `guest-${provider}-${Date.now()}`;
      const newer = job({ externalId, at: '2026-03-01T09:00:30.000Z', attributes: { tier: 'platinum' } });
      const older = job({ externalId, at: '2026-03-01T09:00:10.000Z', attributes: { tier: 'silver' } });
      const other = job({ externalId: `${externalId}-b`, at: '2026-03-01T09:00:20.000Z' });
      const batch = sqsEvent(jobRecord(newer, 'm-newer'), jobRecord(other, 'm-other'));

      // Act
      const first = await handler(batch, lambdaContext());
      const redelivered = await handler(sqsEvent(jobRecord(newer, 'm-newer', 2), jobRecord(other, 'm-other', 2)), lambdaContext());
      const redriven = await handler(sqsEvent(jobRecord(older, 'm-older')), lambdaContext());

      // Assess
      expect([first, redelivered, redriven]).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }, { batchItemFailures: [] }]);
      const records = Object.values(sandbox.state().records);
      const record = records.find((r) => r.externalId === externalId);
      expect(record?.history).toEqual(['2026-03-01T09:00:30.000Z']);
      expect(record?.writes).toBe(1);
      expect(records.find((r) => r.externalId === `${externalId}-b`)?.writes).toBe(1);
      expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    } finally {
      await secrets.close();
      await sandbox.close();
    }
  });
});
