/**
 * The metrics report against the local stack: known traffic (prefills that succeed and
 * fail, webhook events accepted, ignored and rejected, CRM sync with one permanent
 * failure) goes through the real functions; the report built from the EMF lines the stack
 * kept and its embedded SQS must show exactly what was sent. Counted as differences from
 * a report taken before, so traffic from other test files does not matter. Then the same
 * through the scheduled function (fired on demand) and through `npm run report`.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localEmfSource, produceReport, reportWindow } from '#lib/report';
import type { MetricsReport } from '#lib/report/types.ts';
import { signPayload } from '#lib/webhook';
import { localSqsClient } from '#local/sqs.ts';
import { addFaults, machineToken, peekMessages, purge, queueDepth, resetSandboxes, setWorkerPaused, stack, startLinkedConversation, until } from '#test/support/stack.ts';

const run = promisify(execFile);
/** The project's tsx, runnable from any folder (npm run report is `tsx scripts/report.ts`). */
const TSX = resolve('node_modules/.bin/tsx');

/** The report `npm run report` would build now, from the stack's data. */
async function reportNow(hours = 24): Promise<MetricsReport> {
  const endpoints = stack();
  const sqs = localSqsClient(endpoints.sqsEndpoint);
  try {
    const source = localEmfSource({ metricsFile: endpoints.metricsFile, stage: 'local', sqs, sqsEndpoint: endpoints.sqsEndpoint, queueUrl: endpoints.queueUrl, dlqUrl: endpoints.dlqUrl });
    return (await produceReport({ source, stage: 'local', window: reportWindow({ hours }) })).report;
  } finally {
    sqs.destroy();
  }
}

const sumOf = (counts: Record<string, number>, key: string): number => counts[key] ?? 0;

let token: string;
let webhookSecret: string;
let before: MetricsReport;
let after: MetricsReport;
const failingSession = randomUUID();
const linkedSessions = [randomUUID(), randomUUID()];

const prefill = (sessionId: string, attributes: Record<string, unknown>) =>
  fetch(`${stack().apiUrl}/sessions/${sessionId}/prefill`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ attributes }),
  });

const deliver = (body: Record<string, unknown>, secret = webhookSecret) => {
  const text = JSON.stringify(body);
  return fetch(`${stack().apiUrl}/webhooks/genesys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signPayload(secret, Buffer.from(text)) },
    body: text,
  });
};
const event = (name: string) => ({ eventId: randomUUID(), event: name, sessionId: randomUUID(), attributes: { tier: 'gold' }, timestamp: new Date().toISOString() });

beforeAll(async () => {
  // Prepare: clean sandboxes and queues, the worker running, the secrets and a token at hand.
  await resetSandboxes();
  await setWorkerPaused(false);
  await purge('queue');
  await purge('dlq');
  token = await machineToken();
  const secrets = new SecretsManagerClient({ region: 'us-east-1', endpoint: stack().secretsEndpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: stack().secretIds.webhook }));
    webhookSecret = (JSON.parse(SecretString ?? '{}') as { signingSecret: string }).signingSecret;
  } finally {
    secrets.destroy();
  }
  await fetch(`${stack().crmUrl}/__sandbox/record-failures`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ rules: [{ externalId: failingSession, code: 'VALIDATION_ERROR', message: 'loyaltyTier is not allowed' }] }),
  });
  // Warm the worker up first: a cold batch can outlast the test stack's short visibility
  // timeout and be received twice, which would count its records twice.
  expect((await prefill(randomUUID(), { warmup: true })).status).toBe(200);
  // Two sessions already in a conversation: prefill PATCHes their guest participant, which
  // Genesys will answer 404 (prepared and linked before the baseline, so not counted).
  for (const sessionId of linkedSessions) {
    const answer = await prefill(sessionId, { tier: 'silver' });
    await startLinkedConversation(sessionId, ((await answer.json()) as { customAttributes: Record<string, string> }).customAttributes);
  }
  await until(async () => (await queueDepth('queue')) === 0, 30_000, 'the warm-up jobs synced');
  before = await reportNow();

  // Act: 3 prefills that succeed (one of them rejected by the CRM later), 2 whose participant
  // PATCH Genesys answers 404, 1 invalid; 2 webhook updates, 1 other event, 1 badly signed delivery.
  const statuses: number[] = [];
  for (const sessionId of [randomUUID(), randomUUID(), failingSession]) statuses.push((await prefill(sessionId, { tier: 'gold', visits: 3 })).status);
  await addFaults('genesys', [{ operation: 'patchConversationParticipantAttributes', status: 404, times: 2 }]);
  for (const sessionId of linkedSessions) statuses.push((await prefill(sessionId, { tier: 'gold' })).status);
  statuses.push((await prefill(randomUUID(), { nested: { not: 'allowed' } })).status);
  for (let i = 0; i < 2; i += 1) statuses.push((await deliver(event('guest.session.attributes.updated'))).status);
  statuses.push((await deliver(event('conversation.ended'))).status);
  statuses.push((await deliver(event('guest.session.attributes.updated'), 'not-the-signing-secret')).status);
  expect(statuses, `statuses ${statuses.join(', ')}`).toEqual([200, 200, 200, 404, 404, 400, 202, 202, 202, 401]);

  // The worker syncs the 5 jobs: 4 upserted, 1 rejected for good into the DLQ.
  let depths = '';
  await until(async () => {
    const [dlq, queue] = [await queueDepth('dlq'), await queueDepth('queue')];
    depths = `queue ${queue}, DLQ ${dlq}`;
    return dlq === 1 && queue === 0;
  }, 40_000, 'the CRM sync of the 5 jobs').catch(async (error: Error) => {
    const dead = (await peekMessages('dlq')).map((m) => `${m.MessageAttributes?.['failureCode']?.StringValue}: ${m.MessageAttributes?.['failureReason']?.StringValue} ${m.Body?.slice(0, 200)}`);
    throw new Error(`${error.message} (${depths}; ${dead.join(' | ')})`);
  });
  await until(async () => {
    after = await reportNow();
    return after.crm.window.upserted - before.crm.window.upserted >= 4 && after.crm.window.failedPermanently - before.crm.window.failedPermanently >= 1 && after.webhook.window.rejected > before.webhook.window.rejected;
  }, 20_000, 'the metrics of that traffic in the EMF file');
}, 120_000);

afterAll(async () => {
  await fetch(`${stack().crmUrl}/__sandbox/record-failures`, { method: 'DELETE' });
  await purge('dlq');
});

describe('the metrics report after known traffic', () => {
  it('counts the prefills: attempts, successes, failures by reason', () => {
    // Assess
    const p = after.prefill.window;
    const b = before.prefill.window;
    expect(p.attempts - b.attempts).toBe(6);
    expect(p.successes - b.successes).toBe(3);
    expect(p.failures - b.failures).toBe(3);
    expect(sumOf(p.failuresByReason, 'not_found') - sumOf(b.failuresByReason, 'not_found')).toBe(2);
    expect(sumOf(p.failuresByReason, 'validation') - sumOf(b.failuresByReason, 'validation')).toBe(1);
    expect(p.latencyMs.samples - b.latencyMs.samples).toBe(6);
    expect(p.startRate).toBe(Math.round((p.successes / p.attempts) * 10_000) / 10_000);
  });

  it('counts the webhook events: accepted, ignored, rejected by reason', () => {
    const w = after.webhook.window;
    const b = before.webhook.window;
    expect(w.accepted - b.accepted).toBe(2);
    expect(w.ignored - b.ignored).toBe(1);
    expect(w.rejected - b.rejected).toBe(1);
    expect(sumOf(w.rejectedByReason, 'signature') - sumOf(b.rejectedByReason, 'signature')).toBe(1);
  });

  it('counts the CRM sync: 4 records upserted, 1 failed permanently, its code in the DLQ', () => {
    const c = after.crm.window;
    const b = before.crm.window;
    expect(c.upserted - b.upserted).toBe(4);
    expect(sumOf(c.upsertedByStatus, 'created') - sumOf(b.upsertedByStatus, 'created')).toBe(4);
    expect(c.failedPermanently - b.failedPermanently).toBe(1);
    expect(sumOf(c.failedByCode, 'VALIDATION_ERROR') - sumOf(b.failedByCode, 'VALIDATION_ERROR')).toBe(1);
    expect(c.chunkLatencyMs.samples).toBeGreaterThan(b.chunkLatencyMs.samples);
    expect(after.queue).toMatchObject({ backlog: 0, inFlight: 0, dlqDepth: 1, topFailureCodes: [{ code: 'VALIDATION_ERROR', count: 1 }], failureCodesFrom: 'dlq-messages' });
    expect(after.findings.find((f) => f.code === 'dlq-not-empty')?.message).toBe(
      'DLQ holds 1 record(s), 1 with VALIDATION_ERROR: inspect with npm run dlq:inspect, fix the cause, then redrive with npm run dlq:redrive.',
    );
  });

  it('shows the same figures in the last hour and in the hourly series', () => {
    expect(after.prefill.lastHour.attempts - before.prefill.lastHour.attempts).toBe(6);
    expect(after.series.prefillAttempts.reduce((a, b) => a + b, 0)).toBe(after.prefill.window.attempts);
    expect(after.series.crmUpserted.reduce((a, b) => a + b, 0)).toBe(after.crm.window.upserted);
  });
});

describe('the scheduled function, fired on demand', () => {
  it('reports the same figures as the local build', async () => {
    // Act
    const response = await fetch(`${stack().controlUrl}/__local/schedules/metricsReport`, { method: 'POST' });
    const { result } = (await response.json()) as { result: Record<string, any> };
    const local = await reportNow();

    // Assess
    expect(response.status).toBe(200);
    expect(result['prefill']).toMatchObject({ attempts: local.prefill.window.attempts, successes: local.prefill.window.successes, failuresByReason: local.prefill.window.failuresByReason });
    expect(result['webhook']).toEqual(local.webhook.window);
    expect(result['crm']).toMatchObject({ upserted: local.crm.window.upserted, failedPermanently: local.crm.window.failedPermanently });
    expect(result['queue']).toMatchObject({ dlqDepth: 1, topFailureCodes: [{ code: 'VALIDATION_ERROR', count: 1 }] });
    expect(result['findings'].map((f: { code: string }) => f.code)).toContain('dlq-not-empty');
    expect(result['keys']).toEqual([]);
  });
});

describe('npm run report', () => {
  let folder: string;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'npm-report-'));
    await mkdir(join(folder, '.local'));
    await writeFile(join(folder, '.local', 'stack.json'), JSON.stringify(stack()));
  });
  afterAll(() => rm(folder, { recursive: true, force: true }));

  it('writes reports/<timestamp>.{json,md,html} and prints the paths and the Markdown', async () => {
    // Act
    const { stdout } = await run(TSX, [resolve('scripts/report.ts')], { cwd: folder, env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });

    // Assess
    const files = (await readdir(join(folder, 'reports'))).sort();
    expect(files).toHaveLength(3);
    expect(files.map((f) => f.split('.').pop())).toEqual(['html', 'json', 'md']);
    for (const file of files) expect(stdout).toContain(`wrote ${join('reports', file)}`);
    const json = JSON.parse(await readFile(join(folder, 'reports', files[1]!), 'utf8')) as MetricsReport;
    expect(json.prefill.window.attempts).toBe(after.prefill.window.attempts);
    expect(json.crm.window.failedPermanently).toBe(after.crm.window.failedPermanently);
    expect(stdout).toContain('# Genesys guest sync: metrics report (local)');
    expect(stdout).toContain(`| attempts | ${after.prefill.window.attempts} |`);
    const html = await readFile(join(folder, 'reports', files[0]!), 'utf8');
    expect(html).toContain('data-chart="prefill-start-rate" data-has-data="true"');
  });

  it('explains what to do when no local stack is running', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'npm-report-none-'));
    try {
      const failed = await run(TSX, [resolve('scripts/report.ts')], { cwd: empty }).catch((error: { code: number; stderr: string }) => error);
      expect(failed).toMatchObject({ code: 1 });
      expect((failed as { stderr: string }).stderr).toContain('No local stack found (.local/stack.json): start it with `npm start`');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
