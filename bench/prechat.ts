/**
 * Benchmark (c): the pre-chat enrichment handler (`functions/http/prechat.ts`, the real
 * middy stack and the real shared clients), in process, against loopback servers: the
 * sandbox Genesys (version 2: each request enriches a conversation its Messenger simulator
 * started, and PATCHes the guest participant's attributes), the CRM sandbox, the local
 * Secrets Manager and the embedded SQS (fauxqs).
 * Latency per request with the CRM answering at once, with the CRM slower than the 5 s
 * budget (the goal: p99 within 5 s + 10%), and with the CRM failing behind an open
 * circuit. Every server listens on 127.0.0.1 on an ephemeral port.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { startLocalSecretsManager } from '#local/secrets-manager.ts';
import { startGenesysSandboxV2 } from '#local/sandbox/genesys/index.ts';
import { startCrmSandbox } from '#local/sandbox/index.ts';
import { startEmbeddedSqs } from '#local/sqs.ts';
import { ms, table } from './support/markdown.ts';
import { median, percentile } from './support/stats.ts';
import type { Benchmark, BenchContext } from './support/types.ts';

/** Sequential requests with an instant CRM (each a cache miss: a different customer). */
const INSTANT_REQUESTS = 200;
/** Requests with a CRM slower than the budget, in concurrent waves (each ~5 s). */
const TIMEOUT_WAVES = 2;
const TIMEOUT_WAVE_SIZE = 10;
/** Sequential requests while the circuit is open. */
const OPEN_CIRCUIT_REQUESTS = 100;
const BUDGET_MS = 5_000;
const GOAL_MS = BUDGET_MS * 1.1;
/** How long the slow CRM takes to answer: well past the budget. */
const SLOW_CRM_DELAY_MS = 8_000;
const CRM_TOKEN = 'bench-crm-token';
const GENESYS_CLIENT = { clientId: 'bench-genesys', clientSecret: 'bench-genesys-secret' };
const SECRET_IDS = {
  genesys: 'bench/genesys-credentials',
  crm: 'bench/crm-credentials',
  identity: 'bench/identity-salt',
};
const QUEUES = { platinum: 'queue-platinum', gold: 'queue-gold', standard: 'queue-standard' };

type Handler = (event: unknown, context: Context) => Promise<{ statusCode: number; body?: string }>;

interface Sample {
  ms: number;
  status: number;
  enriched: boolean | undefined;
}

function context(): Context {
  const started = Date.now();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'bench-prechatEnrich',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:bench-prechatEnrich',
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/bench-prechatEnrich',
    logStreamName: 'bench',
    // The deployed function's timeout (serverless.yml: 15 s).
    getRemainingTimeInMillis: () => Math.max(0, 15_000 - (Date.now() - started)),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** A live conversation and its guest participant, as the Data Action names them. */
interface Conversation {
  conversationId: string;
  participantId: string;
}

function event(email: string, conversation: Conversation): unknown {
  const body = JSON.stringify({ ...conversation, surveyAnswers: { email, subject: 'Billing', priority: 'high' } });
  return {
    version: '2.0',
    routeKey: 'POST /prechat/enrich',
    rawPath: '/prechat/enrich',
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'bench',
      domainName: 'bench.local',
      domainPrefix: 'bench',
      http: { method: 'POST', path: '/prechat/enrich', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
      requestId: randomUUID(),
      routeKey: 'POST /prechat/enrich',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
      authorizer: { jwt: { claims: { sub: 'bench', scope: 'guest-sync/write' }, scopes: ['guest-sync/write'] } },
    },
  };
}

/** A guest's first message through the Messenger simulator (before the clock starts). */
async function firstMessage(genesysUrl: string): Promise<Conversation> {
  const response = await fetch(`${genesysUrl}/__sandbox/messenger/conversations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customAttributes: { pageCategory: 'billing' } }),
  });
  if (response.status !== 201) throw new Error(`the Messenger simulator answered ${response.status}`);
  const started = (await response.json()) as { conversationId: string; customerParticipantId: string };
  return { conversationId: started.conversationId, participantId: started.customerParticipantId };
}

async function invoke(handler: Handler, email: string, conversation: Conversation): Promise<Sample> {
  const began = performance.now();
  const result = await handler(event(email, conversation), context());
  const elapsed = performance.now() - began;
  const body = result.body ? (JSON.parse(result.body) as { enriched?: boolean }) : {};
  return { ms: elapsed, status: result.statusCode, enriched: body.enriched };
}

/** Replaces the variables for the handler and gives back a function restoring the old ones. */
function setEnvironment(values: Record<string, string>): () => void {
  const previous = Object.fromEntries(Object.keys(values).map((key) => [key, process.env[key]]));
  Object.assign(process.env, values);
  return () => {
    for (const [key, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}

/**
 * Mutes stdout (the function's structured logs and EMF metrics go there; the benchmark's
 * stdout carries only the Markdown document).
 */
function muteStdout(): () => void {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  return () => {
    process.stdout.write = write;
  };
}

const row = (label: string, samples: Sample[], expectEnriched: boolean): string[] => {
  const values = samples.map((s) => s.ms);
  const ok = samples.filter((s) => s.status === 200 && s.enriched === expectEnriched).length;
  return [
    label,
    String(samples.length),
    `${ok} / ${samples.length}`,
    ms(median(values)),
    ms(percentile(values, 99)),
    ms(Math.max(...values)),
  ];
};

async function run(bench: BenchContext): Promise<string> {
  const closers: Array<() => Promise<void> | void> = [];
  try {
    const secrets = await startLocalSecretsManager({
      [SECRET_IDS.genesys]: GENESYS_CLIENT,
      [SECRET_IDS.crm]: { apiToken: CRM_TOKEN },
      [SECRET_IDS.identity]: { salt: 'bench-identity-salt' },
    });
    closers.push(() => secrets.close());
    const genesys = await startGenesysSandboxV2({ port: 0, clients: [GENESYS_CLIENT] });
    closers.push(() => genesys.close());
    const crm = await startCrmSandbox({ port: 0, apiToken: CRM_TOKEN });
    closers.push(() => crm.close());
    const sqs = await startEmbeddedSqs({
      queueName: 'bench-crm-sync',
      dlqName: 'bench-crm-sync-dlq',
      visibilityTimeoutSeconds: 180,
      maxReceiveCount: 5,
      dlqRetentionSeconds: 1_209_600,
    });
    closers.push(() => sqs.close());

    closers.push(
      setEnvironment({
        GENESYS_API_BASE_URL: genesys.url,
        GENESYS_LOGIN_BASE_URL: genesys.url,
        GENESYS_CREDENTIALS_SECRET_ID: SECRET_IDS.genesys,
        CRM_BASE_URL: crm.url,
        CRM_CREDENTIALS_SECRET_ID: SECRET_IDS.crm,
        IDENTITY_SALT_SECRET_ID: SECRET_IDS.identity,
        CRM_SYNC_QUEUE_URL: sqs.queueUrl,
        STATE_TABLE_NAME: 'bench-state',
        ROUTING_QUEUES: JSON.stringify(QUEUES),
        AWS_ENDPOINT_URL_SQS: sqs.endpoint,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'bench',
        AWS_SECRET_ACCESS_KEY: 'bench',
        POWERTOOLS_LOG_LEVEL: 'ERROR',
      }),
    );
    // Imported after the environment is set: the function reads it at cold start.
    const { handler } = (await import('#functions/http/prechat.ts')) as unknown as { handler: Handler };
    const { resetSharedCustomerLookupForTests } = await import('#lib/crm');

    const customers = Array.from({ length: INSTANT_REQUESTS + 1 }, (_, i) => ({
      id: `cust-${i}`,
      email: `customer-${i}@bench.example`,
      firstName: 'Bench',
      loyaltyTier: i % 2 === 0 ? 'gold' : 'platinum',
    }));
    const seeded = await fetch(`${crm.url}/__sandbox/customers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customers }),
    });
    if (seeded.status !== 201) throw new Error(`seeding the CRM sandbox failed: ${seeded.status}`);

    const unmute = muteStdout();
    closers.push(unmute);
    const conversation = (): Promise<Conversation> => firstMessage(genesys.url);
    // Warm-up: cold start, first token, first secret reads (not counted).
    await invoke(handler, customers[INSTANT_REQUESTS]?.email ?? 'warmup@bench.example', await conversation());

    bench.progress(`prechat: ${INSTANT_REQUESTS} requests with an instant CRM`);
    const instant: Sample[] = [];
    for (let i = 0; i < INSTANT_REQUESTS; i += 1) instant.push(await invoke(handler, customers[i]?.email ?? '', await conversation()));

    bench.progress(`prechat: ${TIMEOUT_WAVES} waves of ${TIMEOUT_WAVE_SIZE} requests with a CRM slower than the budget`);
    const slow = await fetch(`${crm.url}/__sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rules: [{ operation: 'lookupCustomers', delayMs: SLOW_CRM_DELAY_MS }] }),
    });
    if (!slow.ok) throw new Error(`the CRM fault was refused: ${slow.status}`);
    const timedOut: Sample[] = [];
    for (let wave = 0; wave < TIMEOUT_WAVES; wave += 1) {
      // A closed circuit for each wave, so every request of it waits for the budget.
      resetSharedCustomerLookupForTests();
      const started = await Promise.all(Array.from({ length: TIMEOUT_WAVE_SIZE }, conversation));
      timedOut.push(...(await Promise.all(started.map((c) => invoke(handler, `slow-${randomUUID()}@bench.example`, c)))));
    }

    bench.progress(`prechat: ${OPEN_CIRCUIT_REQUESTS} requests with a failing CRM behind an open circuit`);
    await fetch(`${crm.url}/__sandbox/faults`, { method: 'DELETE' });
    await fetch(`${crm.url}/__sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rules: [{ operation: 'lookupCustomers', status: 503 }] }),
    });
    resetSharedCustomerLookupForTests();
    for (let i = 0; i < 5; i += 1) await invoke(handler, `open-${i}@bench.example`, await conversation()); // opens the circuit
    const lookupsBefore = crm.state().requests.filter((r) => r.operation === 'lookupCustomers').length;
    const open: Sample[] = [];
    for (let i = 0; i < OPEN_CIRCUIT_REQUESTS; i += 1) open.push(await invoke(handler, `open-${randomUUID()}@bench.example`, await conversation()));
    const lookupsDuring = crm.state().requests.filter((r) => r.operation === 'lookupCustomers').length - lookupsBefore;
    unmute();

    const slowP99 = percentile(timedOut.map((s) => s.ms), 99);
    const allAnswered = [...instant, ...timedOut, ...open].every((s) => s.status === 200);
    const met = slowP99 <= GOAL_MS && allAnswered;
    return [
      '## (c) Pre-chat enrichment: instant CRM, CRM past its budget, open circuit',
      '',
      'The handler of `functions/http/prechat.ts` (middy stack, shared Genesys client, CRM lookup with cockatiel timeout and ' +
        'circuit breaker, SQS producer) invoked in process with API Gateway events, against the sandbox Genesys (version 2), the CRM ' +
        'sandbox, the local Secrets Manager and the embedded SQS on 127.0.0.1. Each request enriches a conversation the Messenger ' +
        "simulator started beforehand (not timed) and PATCHes its guest participant's attributes. Latency is from invoke to answer. " +
        '"Instant CRM": each request ' +
        `a different seeded customer (a CRM call each time, no cache hit), one after another. "CRM past its budget": the CRM ` +
        `answers after ${SLOW_CRM_DELAY_MS / 1000} s, the budget is ${BUDGET_MS / 1000} s; ${TIMEOUT_WAVES} waves of ` +
        `${TIMEOUT_WAVE_SIZE} concurrent requests, each wave with a fresh (closed) circuit so every request waits for the budget. ` +
        '"Open circuit": the CRM answers 503, five failures open the circuit, then requests one after another.',
      '',
      table(
        ['CRM', 'requests', '200 with the expected `enriched`', 'p50', 'p99', 'max'],
        [row('instant (enriched)', instant, true), row('past its budget (unenriched)', timedOut, false), row('failing, circuit open (unenriched)', open, false)],
        ['l', 'r', 'r', 'r', 'r', 'r'],
      ),
      '',
      `CRM lookups made while the circuit was open: ${lookupsDuring} for ${OPEN_CIRCUIT_REQUESTS} requests.`,
      '',
      met
        ? `Goal met: with the CRM past its budget, p99 is ${ms(slowP99)}, within ${ms(GOAL_MS)} (5 s + 10%), and every request answered 200.`
        : `**Goal NOT met**: p99 with the CRM past its budget is ${ms(slowP99)} (goal ${ms(GOAL_MS)})${allAnswered ? '' : ', and some requests did not answer 200'}.`,
    ].join('\n');
  } finally {
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch {
        // keep closing the rest
      }
    }
  }
}

/** Benchmark (c), for bench/run.ts. */
export const prechatBenchmark: Benchmark = { name: 'pre-chat enrichment', run };
