/**
 * The CRM sync worker as Lambda runs it (the whole middy stack) against the sandbox CRM
 * and the local Secrets Manager on 127.0.0.1, with the DLQ faked by aws-sdk-client-mock.
 */
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startHubSpotSandbox } from '#local/sandbox/crm-providers/index.ts';
import { startCrmSandbox, type CrmSandbox } from '#local/sandbox/index.ts';
import { startLocalSecretsManager, type LocalSecretsManager } from '#local/secrets-manager.ts';
import { captureOutput, lambdaContext, type CapturedOutput } from '#test/support/lambda.ts';
import { job, jobRecord, sqsEvent, sqsRecord } from '#test/support/factories.ts';

const SECRET_ID = 'test/crm-credentials';
const DLQ_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/genesys-guest-sync-test-crm-sync-dlq';
const sqs = mockClient(SQSClient);

let secrets: LocalSecretsManager;
let crm: CrmSandbox;
let output: CapturedOutput;

type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

beforeEach(async () => {
  secrets = await startLocalSecretsManager({ [SECRET_ID]: { apiToken: 'crm-token', accessToken: 'pat-worker' } });
  crm = await startCrmSandbox({ apiToken: 'crm-token' });
  sqs.reset();
  sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: Array<{ Id: string }> }) => ({
    Successful: input.Entries.map((entry) => ({ Id: entry.Id, MessageId: `dlq-${entry.Id}`, MD5OfMessageBody: 'x' })),
    Failed: [],
  }));
  output = captureOutput();
});
afterEach(async () => {
  output.restore();
  vi.unstubAllEnvs();
  await crm.close();
  await secrets.close();
});

async function coldStart(overrides: Record<string, string | undefined> = {}): Promise<Handler> {
  const env: Record<string, string | undefined> = {
    CRM_BASE_URL: crm.url,
    CRM_CREDENTIALS_SECRET_ID: SECRET_ID,
    CRM_SYNC_DLQ_URL: DLQ_URL,
    CRM_BATCH_SIZE: '50',
    CRM_MAX_REQUESTS_PER_SECOND: '50',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    ...overrides,
  };
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value as string);
  vi.resetModules();
  return (await import('#functions/workers/crm-sync.ts')).handler as unknown as Handler;
}

const dlqEntries = () => sqs.commandCalls(SendMessageBatchCommand).flatMap((c) => c.args[0].input.Entries ?? []);
const contextWith = (remainingMs: number): Context => {
  const end = Date.now() + remainingMs;
  return lambdaContext({ getRemainingTimeInMillis: () => Math.max(0, end - Date.now()) });
};

describe('the CRM sync worker', () => {
  it('upserts the newest version of each record, dead-letters the invalid message, and reports no failure', async () => {
    // Prepare
    const handler = await coldStart();
    const older = job({ externalId: 'guest-1', at: '2025-03-01T10:00:00.000Z', attributes: { note: 'first-version-marker' } });
    const newer = job({ externalId: 'guest-1', at: '2025-03-01T10:05:00.000Z', attributes: { note: 'second-version-marker' } });
    const other = job({ externalId: 'guest-2' });
    const event = sqsEvent(jobRecord(newer, 'm-new'), sqsRecord('{"v":1,"kind":', 'm-bad'), jobRecord(other, 'm-other'), jobRecord(older, 'm-old'));

    // Act
    const result = await handler(event, contextWith(30_000));

    // Assess: what the CRM holds
    expect(result).toEqual({ batchItemFailures: [] });
    const state = crm.state();
    expect(Object.keys(state.records).sort()).toEqual(['guest-1', 'guest-2']);
    expect(state.records['guest-1']?.record.attributes).toEqual({ note: 'second-version-marker' });
    expect(state.requests).toHaveLength(1);

    // Assess: what the DLQ got
    const entries = dlqEntries();
    expect(entries).toHaveLength(1);
    expect(entries[0]?.MessageBody).toBe('{"v":1,"kind":');
    expect(entries[0]?.MessageAttributes?.['failureCode']?.StringValue).toBe('INVALID_JOB');
    expect(entries[0]?.MessageAttributes?.['jobId']?.StringValue).toBe('unknown:m-bad');
  });

  it('logs one line per batch with counts, never record contents', async () => {
    // Prepare
    const handler = await coldStart();
    const guest = job({ externalId: 'guest-1', attributes: { note: 'private-attribute-value' } });

    // Act
    await handler(sqsEvent(jobRecord(guest)), contextWith(30_000));

    // Assess
    const [line] = output.logged('CRM sync batch');
    expect(line).toMatchObject({ received: 1, records: 1, requests: 1, upserted: { created: 1 }, deferred: 0, breaker: 'closed' });
    expect(output.text()).not.toContain('private-attribute-value');
  });

  it('emits the worker metrics', async () => {
    // Prepare
    const handler = await coldStart();

    // Act
    await handler(sqsEvent(jobRecord(job({ externalId: 'a' })), jobRecord(job({ externalId: 'b' }))), contextWith(30_000));

    // Assess
    const emf = output.entries().filter((entry) => entry['_aws'] !== undefined);
    const names = new Set(emf.flatMap((entry) => (entry['_aws'] as any).CloudWatchMetrics.flatMap((m: any) => m.Metrics.map((x: any) => x.Name))));
    for (const name of ['CrmRecordsReceived', 'CrmRecordsCoalesced', 'CrmRecordsUpserted', 'CrmChunks', 'CrmChunkLatency', 'CrmRecordsRetried', 'CrmRecordsDeferred']) {
      expect(names).toContain(name);
    }
    expect(emf.find((entry) => entry['CrmRecordsUpserted'] !== undefined)).toMatchObject({ status: 'created', CrmRecordsUpserted: 2 });
  });

  it('dead-letters the records the CRM rejects with their reason, and upserts their chunk-mates', async () => {
    // Prepare
    const handler = await coldStart();
    await fetch(`${crm.url}/__sandbox/record-failures`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rules: [{ externalId: 'guest-2', code: 'VALIDATION_ERROR', message: 'tier is not allowed' }] }),
    });
    const jobs = ['guest-1', 'guest-2', 'guest-3'].map((externalId) => job({ externalId }));

    // Act
    const result = await handler(sqsEvent(...jobs.map((job) => jobRecord(job))), contextWith(30_000));

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(Object.keys(crm.state().records).sort()).toEqual(['guest-1', 'guest-3']);
    const [entry, ...rest] = dlqEntries();
    expect(rest).toEqual([]);
    expect(entry?.MessageAttributes).toMatchObject({
      failureCode: { StringValue: 'VALIDATION_ERROR' },
      failureReason: { StringValue: 'tier is not allowed' },
      jobId: { StringValue: jobs[1]?.jobId },
    });
  });

  it('hands the batch back to SQS when the CRM stays down for the whole invocation', async () => {
    // Prepare
    const handler = await coldStart();
    crm.faults.add([{ operation: 'batchUpsert', status: 503 }]);
    const records = ['a', 'b'].map((externalId) => jobRecord(job({ externalId }), `m-${externalId}`));

    // Act
    const result = await handler(sqsEvent(...records), contextWith(2_500));

    // Assess
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['m-a', 'm-b']);
    expect(dlqEntries()).toEqual([]);
  });

  it('applies a chunk once when its first answer was lost and SQS delivers it again', async () => {
    // Prepare: the CRM commits, then holds its answer past the first invocation's time
    const handler = await coldStart();
    crm.faults.add([{ operation: 'batchUpsert', delayAfterCommitMs: 2_500, times: 1 }]);
    const event = sqsEvent(...['a', 'b', 'c'].map((externalId) => jobRecord(job({ externalId }), `m-${externalId}`)));

    // Act
    const first = await handler(event, contextWith(2_000));
    const second = await handler(event, contextWith(10_000));

    // Assess
    expect(first.batchItemFailures).toHaveLength(3);
    expect(second).toEqual({ batchItemFailures: [] });
    const state = crm.state();
    const keys = state.requests.map((r) => r['idempotencyKey']);
    expect(new Set(keys).size).toBe(1);
    expect(Object.values(state.idempotency).map((entry) => entry.applications)).toEqual([1]);
    expect(state.duplicateApplications).toEqual([]);
    expect(Object.keys(state.records).sort()).toEqual(['a', 'b', 'c']);
    // Two invocations around a 2.5 s held answer: more than vitest's default 5 s on a loaded machine.
  }, 15_000);

  it('processes the sample event (events/crm-sync.json): the older duplicate is coalesced away', async () => {
    // Prepare
    const handler = await coldStart();
    const event = JSON.parse(await readFile('events/crm-sync.json', 'utf8')) as SQSEvent;

    // Act
    const result = await handler(event, contextWith(30_000));

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    const { records } = crm.state();
    expect(Object.keys(records)).toHaveLength(2);
    expect(records['3f6c1d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f']?.record.attributes).toMatchObject({ tier: 'gold' });
    expect(output.logged('CRM sync batch')[0]).toMatchObject({ received: 3, coalesced: 1, records: 2 });
  });

  it('hands every message back while misconfigured, naming the variable', async () => {
    // Prepare
    const handler = await coldStart({ CRM_SYNC_DLQ_URL: undefined });

    // Act
    const result = await handler(sqsEvent(jobRecord(job(), 'm-1')), contextWith(30_000));

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    expect(output.logged('Invalid configuration at cold start')[0]).toMatchObject({ variables: ['CRM_SYNC_DLQ_URL'] });
    expect(crm.state().requests).toHaveLength(0);
  });
});

describe('the CRM sync worker on HubSpot: its pace follows the tier HubSpot reports', () => {
  it.each<[string, string | undefined, number]>([
    ['a Professional account (190 per 10 s) lifts the default pace', undefined, (190 * 0.95) / 2 / 10],
    ['CRM_MAX_REQUESTS_PER_SECOND set explicitly stays the ceiling', '6', 6],
  ])('%s', async (_case, explicit, perSecond) => {
    // Prepare
    const hubspot = await startHubSpotSandbox({ accessToken: 'pat-worker', tier: 'professional' });
    try {
      const handler = await coldStart({ CRM_PROVIDER: 'hubspot', CRM_BASE_URL: hubspot.url, HUBSPOT_ID_PROPERTY: 'guest_sync_external_id', CRM_BATCH_SIZE: undefined, CRM_MAX_REQUESTS_PER_SECOND: explicit });

      // Act
      const result = await handler(sqsEvent(jobRecord(job({ externalId: 'guest-1' }), 'm-1')), contextWith(30_000));

      // Assess
      expect(result).toEqual({ batchItemFailures: [] });
      expect(Object.keys(hubspot.state().records)).toEqual(['guest-1']);
      const { PROVIDER_BURST, PROVIDER_REQUESTS_PER_SECOND } = await import('#lib/crm/adapter.ts');
      const { sharedCrmRateLimiter } = await import('#lib/sync/shared.ts');
      const burst = PROVIDER_BURST.hubspot;
      const limiter = explicit === undefined ? sharedCrmRateLimiter(PROVIDER_REQUESTS_PER_SECOND.hubspot, { burst }) : sharedCrmRateLimiter(Number(explicit), { burst, ceilingPerSecond: Number(explicit) });
      expect(limiter.perSecond).toBeCloseTo(perSecond);
    } finally {
      await hubspot.close();
    }
  });
});
