/**
 * SQS stalled (it accepts connections and never answers), then back: the intake routes
 * answer within their function's deadline, say the sync is pending, keep the job in the
 * state table's outbox, and the scheduled sweep brings it to the CRM once SQS answers.
 */
import { randomUUID } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signPayload } from '#lib/webhook';
import { localDynamoDbClient } from '#local/dynamodb.ts';
import { crmState, fireSchedule, machineToken, queueDepth, setFunctionsSqs, stack, until } from '#test/support/stack.ts';

/** Jobs waiting in the outbox, as the sweep would read them. */
async function outboxJobs(): Promise<Array<Record<string, unknown>>> {
  const client = localDynamoDbClient(stack().dynamodbEndpoint);
  try {
    const { Items } = await client.send(
      new QueryCommand({
        TableName: stack().stateTableName,
        IndexName: 'outbox',
        KeyConditionExpression: 'outboxPk = :o',
        ExpressionAttributeValues: { ':o': { S: 'outbox' } },
      }),
    );
    return (Items ?? []).map((item) => unmarshall(item));
  } finally {
    client.destroy();
  }
}

/** Whether the job still waits in the outbox. */
const inOutbox = async (jobId: string): Promise<boolean> => (await outboxJobs()).some((item) => item['jobId'] === jobId);

/**
 * Runs the sweep until the job has left the outbox (it leaves only once SQS has it).
 * Sweeps also run on their own schedule, here as in AWS, and overlap: any of them may be
 * the one that sends the job, so this waits on the job, never on one sweep's report.
 */
async function sweepUntilSent(jobId: string): Promise<void> {
  await until(
    async () => {
      if (!(await inOutbox(jobId))) return true;
      await fireSchedule('outboxSweep');
      return !(await inOutbox(jobId));
    },
    60_000,
    `job ${jobId} to leave the outbox`,
  );
}

/** Requests the functions' SQS gate has held since it last stalled. */
async function heldSqsRequests(): Promise<number> {
  const response = await fetch(`${stack().controlUrl}/__local/faults/sqs`);
  return ((await response.json()) as { stalled: number }).stalled;
}

const crmRecord = async (externalId: string): Promise<Record<string, any> | undefined> => (await crmState()).records[externalId];

let token: string;
let webhookSecret: string;

beforeAll(async () => {
  token = await machineToken('guest-sync/write');
  const secrets = new SecretsManagerClient({
    region: 'us-east-1',
    endpoint: stack().secretsEndpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: stack().secretIds.webhook }));
  webhookSecret = (JSON.parse(SecretString ?? '{}') as { signingSecret: string }).signingSecret;
  secrets.destroy();
});
afterEach(async () => {
  await setFunctionsSqs('pass');
});
afterAll(async () => {
  await setFunctionsSqs('pass');
});

describe('an accepted change while SQS is stalled', () => {
  it('prefill answers 200 with sync "pending", and the job reaches the CRM after SQS is back', async () => {
    // Prepare
    const sessionId = randomUUID();
    await setFunctionsSqs('stall');

    // Act
    const response = await fetch(`${stack().apiUrl}/sessions/${sessionId}/prefill`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ attributes: { tier: 'gold', email: 'stall.case@example.com' } }),
    });

    // Assess: answered (not killed at the timeout), pending, kept in the outbox, not on the queue
    expect(response.status).toBe(200);
    const body = (await response.json()) as { sync: string; syncJobId: string };
    expect(body.sync).toBe('pending');
    const kept = (await outboxJobs()).filter((item) => item['jobId'] === body.syncJobId);
    expect(kept).toHaveLength(1);
    expect(String(kept[0]?.['body'])).not.toContain('stall.case@example.com');
    expect(await crmRecord(sessionId)).toBeUndefined();

    // Act: SQS answers again; the sweep runs
    await setFunctionsSqs('pass');
    await sweepUntilSent(body.syncJobId);

    // Assess
    await until(async () => (await crmRecord(sessionId)) !== undefined, 30_000, 'the prefilled record in the CRM');
    expect((await crmRecord(sessionId))?.record).toMatchObject({ externalId: sessionId, attributes: { tier: 'gold' } });
    expect((await outboxJobs()).filter((item) => item['jobId'] === body.syncJobId)).toEqual([]);
  }, 120_000);

  it('a signed webhook is acknowledged (202) and its job reaches the CRM after SQS is back', async () => {
    // Prepare
    const sessionId = randomUUID();
    const text = JSON.stringify({
      eventId: randomUUID(),
      event: 'guest.session.attributes.updated',
      sessionId,
      attributes: { tier: 'platinum' },
      timestamp: new Date(Date.now() - 1_000).toISOString(),
    });
    await setFunctionsSqs('stall');

    // Act
    const response = await fetch(`${stack().apiUrl}/webhooks/genesys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signPayload(webhookSecret, Buffer.from(text)) },
      body: text,
    });

    // Assess
    expect(response.status).toBe(202);
    const { jobId } = (await response.json()) as { jobId: string };
    expect((await outboxJobs()).map((item) => item['jobId'])).toContain(jobId);

    // Act: still stalled, the sweep keeps the job; then SQS answers
    const stalledSweep = await fireSchedule<{ sent: number; deferred: number }>('outboxSweep');
    expect(stalledSweep.sent).toBe(0);
    expect((await outboxJobs()).map((item) => item['jobId'])).toContain(jobId);
    await setFunctionsSqs('pass');
    // The deferred job is due again after its backoff (2 s after one failed sweep); a
    // scheduled sweep caught by the stall may send it first.
    await sweepUntilSent(jobId);

    // Assess
    await until(async () => (await crmRecord(sessionId)) !== undefined, 30_000, 'the webhook record in the CRM');
    expect(await queueDepth('dlq')).toBe(0);
  }, 120_000);

  it('a sweep caught by the stall sends the job in the same run once SQS answers again', async () => {
    // Prepare: a job kept in the outbox while SQS is stalled
    const sessionId = randomUUID();
    await setFunctionsSqs('stall');
    const response = await fetch(`${stack().apiUrl}/sessions/${sessionId}/prefill`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ attributes: { tier: 'silver' } }),
    });
    expect(response.status).toBe(200);
    const { sync, syncJobId } = (await response.json()) as { sync: string; syncJobId: string };
    expect(sync).toBe('pending');
    const heldBefore = await heldSqsRequests();

    // Act: a sweep starts and its send hangs on the stalled SQS; then SQS answers again
    const sweep = fireSchedule<{ sent: number }>('outboxSweep');
    await until(async () => (await heldSqsRequests()) > heldBefore, 30_000, 'the sweep to wait on the stalled SQS');
    await setFunctionsSqs('pass');

    // Assess: that same sweep sent the job (its client is not stuck on the stalled connection)
    expect((await sweep).sent).toBe(1);
    expect(await inOutbox(syncJobId)).toBe(false);
    await until(async () => (await crmRecord(sessionId)) !== undefined, 30_000, 'the prefilled record in the CRM');
    expect((await crmRecord(sessionId))?.record).toMatchObject({ externalId: sessionId, attributes: { tier: 'silver' } });
    expect(await queueDepth('dlq')).toBe(0);
  }, 120_000);
});
