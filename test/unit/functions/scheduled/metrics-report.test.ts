import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { captureOutput, lambdaContext, type CapturedOutput } from '#test/support/lambda.ts';
import scheduledEvent from '../../../../events/metrics-report.json' with { type: 'json' };

const sqs = mockClient(SQSClient);
const cloudwatch = mockClient(CloudWatchClient);
const s3 = mockClient(S3Client);
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/genesys-guest-sync-prod-crm-sync';
const DLQ_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/genesys-guest-sync-prod-crm-sync-dlq';

type Handler = (event: Record<string, unknown>, context: ReturnType<typeof lambdaContext>) => Promise<Record<string, any>>;

/** Loads the function fresh, as a cold start with the given environment. */
async function coldStart(env: Record<string, string>): Promise<Handler> {
  vi.resetModules();
  const base = { STAGE: 'prod', CRM_SYNC_QUEUE_URL: QUEUE_URL, CRM_SYNC_DLQ_URL: DLQ_URL, AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x' };
  for (const [name, value] of Object.entries({ ...base, ...env })) vi.stubEnv(name, value);
  const { handler } = await import('#functions/scheduled/metrics-report.ts');
  return handler as unknown as Handler;
}

const emfLine = (metrics: Record<string, number>, extra: Record<string, string> = {}) =>
  JSON.stringify({
    _aws: { Timestamp: Date.now() - 60_000, CloudWatchMetrics: [{ Namespace: 'GenesysGuestSync', Dimensions: [['service', 'stage', 'function', ...Object.keys(extra)]], Metrics: Object.keys(metrics).map((Name) => ({ Name })) }] },
    service: 'genesys-guest-sync',
    stage: 'prod',
    function: 'genesys-guest-sync-prod-prefill',
    ...extra,
    ...metrics,
  });

let output: CapturedOutput;
let folder: string;
beforeEach(async () => {
  output = captureOutput();
  folder = await mkdtemp(join(tmpdir(), 'report-fn-'));
  for (const client of [sqs, cloudwatch, s3]) client.reset();
  sqs.on(GetQueueAttributesCommand, { QueueUrl: QUEUE_URL }).resolves({ Attributes: { ApproximateNumberOfMessages: '4', ApproximateNumberOfMessagesNotVisible: '1', ApproximateNumberOfMessagesDelayed: '0' } });
  sqs.on(GetQueueAttributesCommand, { QueueUrl: DLQ_URL }).resolves({ Attributes: { ApproximateNumberOfMessages: '2', ApproximateNumberOfMessagesNotVisible: '0', ApproximateNumberOfMessagesDelayed: '0' } });
});
afterEach(async () => {
  output.restore();
  vi.unstubAllEnvs();
  await rm(folder, { recursive: true, force: true });
});

describe('the scheduled metrics report', () => {
  it('builds the report from the EMF file when one is named (the local stack), logs it and records the queue gauges', async () => {
    // Prepare
    const file = join(folder, 'emf.jsonl');
    await writeFile(file, [emfLine({ PrefillAttempts: 1, PrefillSuccesses: 1 }), emfLine({ PrefillAttempts: 1 }), emfLine({ PrefillFailures: 1 }, { reason: 'not_found' })].join('\n'));
    const handler = await coldStart({ REPORT_METRICS_FILE: file });

    // Act
    const result = await handler(scheduledEvent, lambdaContext());

    // Assess
    expect(result).toMatchObject({ health: 'degraded', noTraffic: false, prefill: { attempts: 2, successes: 1, failuresByReason: { not_found: 1 } }, queue: { backlog: 4, inFlight: 1, dlqDepth: 2 }, keys: [], posted: false });
    expect(cloudwatch.commandCalls(GetMetricDataCommand)).toHaveLength(0);
    const logged = output.logged('Metrics report')[0] as { report?: { schemaVersion?: number; prefill?: { window?: { attempts?: number } } } };
    expect(logged.report?.schemaVersion).toBe(1);
    expect(logged.report?.prefill?.window?.attempts).toBe(2);
    const gauges = output.entries().find((e) => 'QueueBacklog' in e);
    expect(gauges).toMatchObject({ QueueBacklog: 5, DlqDepth: 2, stage: 'prod' });
  });

  it('reads CloudWatch in AWS and writes the files to the bucket prefix', async () => {
    // Prepare
    cloudwatch.on(GetMetricDataCommand).callsFake((input: { MetricDataQueries?: Array<{ Id?: string; Label?: string }> }) => ({
      MetricDataResults: (input.MetricDataQueries ?? [])
        .filter((q) => q.Id === 'prefillAttempts_sum_bucket' || q.Id === 'prefillSuccesses_sum_bucket')
        .map((q) => ({ Id: q.Id, Label: q.Label, Timestamps: [new Date(Date.now() - 120_000)], Values: [10], StatusCode: 'Complete' })),
    }));
    s3.on(PutObjectCommand).resolves({});
    const handler = await coldStart({ REPORT_BUCKET: 'acme-reports', REPORT_PREFIX: 'ops/' });

    // Act
    const result = await handler(scheduledEvent, lambdaContext());

    // Assess
    expect(result).toMatchObject({ health: 'healthy', prefill: { attempts: 10, startRate: 1 } });
    expect(result['keys']).toHaveLength(3);
    expect(s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key)).toEqual(result['keys']);
    for (const key of result['keys'] as string[]) expect(key).toMatch(/^ops\/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ\.(json|md|html)$/);
  });

  it('honours an on-demand window and refuses a bad one', async () => {
    // Prepare
    const handler = await coldStart({ REPORT_METRICS_FILE: join(folder, 'none.jsonl') });

    // Act
    const six = await handler({ windowHours: 6 }, lambdaContext());

    // Assess
    expect(six['window']).toMatchObject({ hours: 6 });
    expect(six['noTraffic']).toBe(true);
    await expect(handler({ windowHours: 1000 }, lambdaContext())).rejects.toThrow('windowHours must be an integer from 1 to 168');
  });

  it('fails the run, after logging the report, when a delivery fails', async () => {
    // Prepare
    s3.on(PutObjectCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    const handler = await coldStart({ REPORT_METRICS_FILE: join(folder, 'none.jsonl'), REPORT_BUCKET: 'acme-reports' });

    // Act
    const run = handler(scheduledEvent, lambdaContext());

    // Assess
    await expect(run).rejects.toThrow(/Metrics report delivery failed: s3:\/\/acme-reports\/metrics-reports\/.*\.json: AccessDenied/);
    expect(output.logged('Metrics report')).toHaveLength(1);
    expect(output.logged('Metrics report delivery failed')).toHaveLength(1);
  });
});
