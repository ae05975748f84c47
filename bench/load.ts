/**
 * Benchmark: load on the two intake routes through a local stack of its own (serverless-
 * offline, the embedded SQS queue, the worker, the sandbox Genesys and CRM), with
 * autocannon: 50 concurrent clients for LOAD_DURATION_SECONDS (default 60) on
 * POST /sessions/{id}/prefill (a fresh session per request) and then on
 * POST /webhooks/genesys (a fresh signed event per request). Loopback only; bounded by
 * the duration and autocannon's per-request timeout.
 *
 * Afterwards the worker drains the queue and every accepted request's job is looked up in
 * the sandbox CRM or the DLQ ("lost" counts those in neither), and the CRM sandbox's
 * duplicate applications are counted. No upstream fault is injected, so every 5xx counts.
 */
import { randomUUID } from 'node:crypto';
import { GetQueueAttributesCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import autocannon from 'autocannon';
import { parseWebhookEvent, signPayload, webhookJobId } from '#lib/webhook';
import { readSecretsFile } from '#local/secrets-manager.ts';
import { freeStackPorts, startLocalStack, type LocalStack } from '#local/stack.ts';
import { localSqsClient } from '#local/sqs.ts';
import { mintLocalToken } from '#local/tokens.ts';
import { table } from './support/markdown.ts';
import type { Benchmark, BenchContext } from './support/types.ts';

const CONNECTIONS = 50;
/** Seconds per route; `LOAD_DURATION_SECONDS` shortens it (e.g. for a quick look). */
export const loadDurationSeconds = (): number => {
  const value = Number(process.env['LOAD_DURATION_SECONDS'] ?? 60);
  return Number.isFinite(value) && value >= 1 && value <= 600 ? Math.floor(value) : 60;
};
const REQUEST_TIMEOUT_SECONDS = 10;
/** serverless-offline starts one container per concurrent request: a warm-up run (not measured) starts them. */
const WARM_UP_SECONDS = 15;
const DRAIN_TIMEOUT_MS = 600_000;

/** What one route did under load, and what became of the jobs it accepted. */
export interface RouteLoad {
  route: string;
  seconds: number;
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  byStatus: Record<string, number>;
  errors: number;
  timeouts: number;
  /** The accepted requests' jobs: id and the record they are about. */
  accepted: Array<{ jobId: string; externalId: string }>;
}

/** The fate of every accepted job after the queue drained. */
export interface LoadOutcome {
  routes: RouteLoad[];
  /** Jobs accepted during the warm-up runs (in the accounting, not in the figures). */
  warmUpAccepted: number;
  /** 5xx answers during the warm-up runs. */
  warmUp5xx: number;
  inCrm: number;
  inDlq: number;
  lost: number;
  duplicateApplications: number;
  drainSeconds: number;
}

const fiveXx = (route: RouteLoad): number => Object.entries(route.byStatus).filter(([status]) => status.startsWith('5')).reduce((a, [, n]) => a + n, 0);

async function startStack(): Promise<LocalStack> {
  const ports = await freeStackPorts();
  const { port } = ports;
  return startLocalStack({
    ...ports,
    writeStackFile: false,
    offlineOutput: '.local/bench-load-offline.log',
    metricsFile: `.local/bench-load-metrics/emf-${port}.jsonl`,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', LOG_LEVEL: 'WARN' },
  });
}

/** Runs autocannon with one request template whose path/body/headers `next()` makes fresh. */
async function hammer(
  route: string,
  url: string,
  seconds: number,
  next: () => { path: string; body: string; headers: Record<string, string> },
  acceptedJob: (status: number, body: string) => { jobId: string; externalId: string } | undefined,
): Promise<RouteLoad> {
  const byStatus: Record<string, number> = {};
  const accepted: RouteLoad['accepted'] = [];
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    timeout: REQUEST_TIMEOUT_SECONDS,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => ({ ...request, ...next() }),
        onResponse: (status, body) => {
          byStatus[status] = (byStatus[status] ?? 0) + 1;
          const job = acceptedJob(status, body);
          if (job) accepted.push(job);
        },
      },
    ],
  });
  return {
    route,
    seconds,
    requests: Object.values(byStatus).reduce((a, b) => a + b, 0),
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    byStatus,
    errors: result.errors,
    timeouts: result.timeouts,
    accepted,
  };
}

async function depth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(Attributes?.['ApproximateNumberOfMessages'] ?? 0) + Number(Attributes?.['ApproximateNumberOfMessagesNotVisible'] ?? 0);
}

/** The jobIds in the DLQ (read once; the stack is thrown away afterwards). */
async function dlqJobIds(sqs: SQSClient, dlqUrl: string): Promise<Set<string>> {
  const ids = new Set<string>();
  for (;;) {
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 300, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }));
    if (!Messages?.length) return ids;
    for (const m of Messages) ids.add(m.MessageAttributes?.['jobId']?.StringValue ?? '');
  }
}

/** Loads both routes on a fresh stack, drains the queue and accounts for every accepted job. */
export async function runLoad(projectRoot: string, seconds: number, progress: (message: string) => void): Promise<LoadOutcome> {
  const stack = await startStack();
  const sqs = localSqsClient(stack.endpoints.sqsEndpoint);
  try {
    const { apiUrl, queueUrl, dlqUrl, crmUrl } = stack.endpoints;
    const secrets = await readSecretsFile(`${projectRoot}/local/secrets.sample.json`);
    const signingSecret = String(secrets['genesys-guest-sync/local/webhook-signing-secret']?.['signingSecret'] ?? '');
    const token = await mintLocalToken({ sub: 'bench-load', scope: 'guest-sync/write', audience: 'machine', expiresInSeconds: 3_600 });
    const json = (body: string): Record<string, unknown> | undefined => {
      try {
        return JSON.parse(body) as Record<string, unknown>;
      } catch {
        return undefined;
      }
    };

    const prefillRequest = () => ({
        path: `/sessions/${randomUUID()}/prefill`,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ attributes: { first_name: 'Jane', tier: 'gold', visits: 3 } }),
      });
    const prefillJob = (status: number, body: string) => {
      const parsed = status === 200 ? json(body) : undefined;
      return parsed && typeof parsed['syncJobId'] === 'string' ? { jobId: parsed['syncJobId'], externalId: String(parsed['sessionId']) } : undefined;
    };
    progress(`load: prefill warm-up, ${CONNECTIONS} clients for ${WARM_UP_SECONDS} s`);
    const prefillWarmUp = await hammer('prefill warm-up', apiUrl, WARM_UP_SECONDS, prefillRequest, prefillJob);
    progress(`load: prefill, ${CONNECTIONS} clients for ${seconds} s`);
    const prefill = await hammer('POST /sessions/{sessionId}/prefill', apiUrl, seconds, prefillRequest, prefillJob);

    const sessions = new Map<string, string>();
    const webhookRequest = () => {
        const sessionId = randomUUID();
        const body = JSON.stringify({
          eventId: randomUUID(),
          event: 'guest.session.attributes.updated',
          sessionId,
          attributes: { first_name: 'Jane', tier: 'gold' },
          timestamp: new Date().toISOString(),
        });
        // The answer names the job, not the session: the route's own jobId function maps it.
        sessions.set(webhookJobId(parseWebhookEvent(Buffer.from(body))), sessionId);
        return { path: '/webhooks/genesys', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signPayload(signingSecret, Buffer.from(body)) }, body };
      };
    const webhookJob = (status: number, body: string) => {
      const parsed = status === 202 ? json(body) : undefined;
      if (!parsed || typeof parsed['jobId'] !== 'string') return undefined;
      return { jobId: parsed['jobId'], externalId: sessions.get(parsed['jobId']) ?? `unknown job ${parsed['jobId']}` };
    };
    progress(`load: webhook warm-up, ${CONNECTIONS} clients for ${WARM_UP_SECONDS} s`);
    const webhookWarmUp = await hammer('webhook warm-up', apiUrl, WARM_UP_SECONDS, webhookRequest, webhookJob);
    progress(`load: webhook, ${CONNECTIONS} clients for ${seconds} s`);
    const webhook = await hammer('POST /webhooks/genesys', apiUrl, seconds, webhookRequest, webhookJob);

    progress('load: waiting for the worker to drain the queue');
    const drainStart = performance.now();
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    while ((await depth(sqs, queueUrl)) > 0) {
      if (Date.now() > deadline) throw new Error('the CRM sync queue did not drain within 10 minutes');
      await new Promise((done) => setTimeout(done, 1_000));
    }
    const drainSeconds = (performance.now() - drainStart) / 1000;

    const state = (await (await fetch(`${crmUrl}/__sandbox/state`)).json()) as {
      records: Record<string, { lastKey?: string; record: { externalId: string } }>;
      idempotency: Record<string, unknown>;
      duplicateApplications: string[];
    };
    const dlq = await dlqJobIds(sqs, dlqUrl);
    // The warm-up runs' jobs are accounted for too (only their timings are left out).
    const all = [...prefillWarmUp.accepted, ...prefill.accepted, ...webhookWarmUp.accepted, ...webhook.accepted];
    const inCrm = all.filter((job) => state.records[job.externalId] !== undefined).length;
    const inDlq = all.filter((job) => state.records[job.externalId] === undefined && dlq.has(job.jobId)).length;
    return {
      routes: [prefill, webhook],
      warmUpAccepted: prefillWarmUp.accepted.length + webhookWarmUp.accepted.length,
      warmUp5xx: fiveXx(prefillWarmUp) + fiveXx(webhookWarmUp),
      inCrm,
      inDlq,
      lost: all.length - inCrm - inDlq,
      duplicateApplications: state.duplicateApplications.length,
      drainSeconds,
    };
  } finally {
    sqs.destroy();
    await stack.stop();
  }
}

const fixed = (value: number, digits = 0): string => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The Markdown section of one load run. */
export function loadSection(outcome: LoadOutcome, seconds: number): string {
  const rows = outcome.routes.map((route) => [
    route.route,
    `${route.seconds} s`,
    fixed(route.requests),
    fixed(route.requestsPerSecond, 1),
    `${fixed(route.p50Ms)} ms`,
    `${fixed(route.p99Ms)} ms`,
    Object.entries(route.byStatus).map(([status, n]) => `${status}: ${fixed(n)}`).join(', ') || 'none',
    fixed(fiveXx(route)),
    `${route.errors} / ${route.timeouts}`,
    fixed(route.accepted.length),
  ]);
  const accepted = outcome.routes.reduce((a, route) => a + route.accepted.length, 0) + outcome.warmUpAccepted;
  return [
    '## Load: prefill and webhook under 50 concurrent clients',
    '',
    `autocannon, ${CONNECTIONS} connections for ${seconds} s per route (\`LOAD_DURATION_SECONDS\`, default 60), against a local stack of its own on loopback (serverless-offline, so every request runs the real handler; the sandbox Genesys answers prefill's PUT). Each route first gets a ${WARM_UP_SECONDS} s warm-up at the same concurrency (serverless-offline starts a container per concurrent request), not in the figures; its jobs are in the accounting below. Each request is fresh: a new session for prefill, a new signed event for the webhook. No upstream fault is injected, so every 5xx would be the suite's own. Afterwards the worker drains the queue and every accepted request's job is looked up in the sandbox CRM (its record) or the DLQ.`,
    '',
    table(['route', 'duration', 'requests', 'requests/s (avg)', 'p50', 'p99', 'statuses', '5xx', 'errors / timeouts', 'jobs accepted'], rows, ['l', 'r', 'r', 'r', 'r', 'r', 'l', 'r', 'r', 'r']),
    '',
    `Jobs accepted: ${fixed(accepted)}; in the CRM: ${fixed(outcome.inCrm)}; in the DLQ: ${fixed(outcome.inDlq)}; lost: ${fixed(outcome.lost)}; duplicate applications in the CRM: ${outcome.duplicateApplications}; 5xx during the warm-ups: ${outcome.warmUp5xx}. The worker drained the queue ${fixed(outcome.drainSeconds, 1)} s after the webhook run ended.`,
  ].join('\n');
}

/** The load benchmark for bench/run.ts. */
export const loadBenchmark: Benchmark = {
  name: 'load',
  async run(context: BenchContext): Promise<string> {
    const seconds = loadDurationSeconds();
    return loadSection(await runLoad(context.projectRoot, seconds, context.progress), seconds);
  },
};
