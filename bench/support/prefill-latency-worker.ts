/**
 * The measuring half of bench/prefill-latency.ts, run in a process of its own so that no
 * other benchmark's module state (shared clients, the logger's level, muted stdout) leaks
 * into it: the process starts with the environment a deployed prefill function has, loads
 * the real handler, and prints the samples as one JSON document on stdout at the end.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { startLocalSecretsManager } from '../../local/secrets-manager.ts';

/** What the worker reports, read by bench/prefill-latency.ts. */
export interface PrefillLatencyReport {
  measured: number;
  warmUp: number;
  block: number;
  slowGenesysMs: number;
  slowMeasured: number;
  phases: Array<{ variants: Array<{ label: string; samples: number[]; failures: number }> }>;
  puts: number;
  sends: number;
  outputBytesPerRequest: number;
}

const MEASURED = 2_000;
const WARM_UP = 200;
/** Variants take turns in blocks of this many requests, so drift spreads over all of them. */
const BLOCK = 100;
/** A second, shorter phase with Genesys answering after this long, for scale. */
const SLOW_GENESYS_MS = 5;
const SLOW_MEASURED = 500;
const SESSION_ID = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
const GENESYS_CLIENT = { clientId: 'bench-genesys', clientSecret: 'bench-genesys-secret' };
const SECRET_IDS = { genesys: 'bench/genesys-credentials', identity: 'bench/identity-salt' };
/** The seed's example request: six attributes (email and phone among them) and three consent flags. */
const BODY = JSON.stringify({
  attributes: {
    first_name: 'Jane',
    last_name: 'Doe',
    account_tier: 'enterprise',
    preferred_language: 'en-US',
    email: 'jane.doe@enterprise.com',
    phone: '555-123-4567',
  },
  consent: { consent_terms_accepted: 'true', gdpr_data_processing: 'true', marketing_opt_in: 'false' },
});

type Handler = (event: unknown, context: Context) => Promise<{ statusCode?: number; body?: string }>;

interface Loopback {
  url: string;
  count: () => number;
  close: () => Promise<void>;
}


function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}

const closer = (server: Server) => (): Promise<void> =>
  new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

/** Genesys that answers at once (or after `setDelay`): a token for any client, 200 for every attribute PUT. */
async function startInstantGenesys(): Promise<Loopback & { setDelay: (ms: number) => void }> {
  let puts = 0;
  let delayMs = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (delayMs > 0 && req.method === 'PUT') {
        puts += 1;
        setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'), delayMs);
        return;
      }
      if (req.method === 'POST' && req.url === '/oauth/token') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"access_token":"bench-token","token_type":"bearer","expires_in":86400}');
        return;
      }
      if (req.method === 'PUT' && /^\/api\/v2\/guests\/messagesessions\/[^/]+\/attributes$/.test(req.url ?? '')) {
        puts += 1;
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      res.writeHead(404).end();
    });
  });
  return { url: await listen(server), count: () => puts, close: closer(server), setDelay: (ms) => void (delayMs = ms) };
}

/** SQS (AWS JSON protocol) that accepts every SendMessageBatch at once, with the MD5s the SDK checks. */
async function startInstantSqs(): Promise<Loopback> {
  let sends = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { Entries?: Array<{ Id: string; MessageBody: string }> };
      sends += 1;
      const successful = (input.Entries ?? []).map((entry) => ({
        Id: entry.Id,
        MessageId: randomUUID(),
        MD5OfMessageBody: createHash('md5').update(entry.MessageBody).digest('hex'),
      }));
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() }).end(JSON.stringify({ Successful: successful, Failed: [] }));
    });
  });
  return { url: await listen(server), count: () => sends, close: closer(server) };
}

function context(): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'bench-prefill',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:bench-prefill',
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/bench-prefill',
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** A fresh API Gateway (payload 2.0) event per request: the HTTP stack mutates what it is given. */
function event(): unknown {
  const path = `/sessions/${SESSION_ID}/prefill`;
  return {
    version: '2.0',
    routeKey: 'POST /sessions/{sessionId}/prefill',
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', 'x-request-id': randomUUID() },
    body: BODY,
    isBase64Encoded: false,
    pathParameters: { sessionId: SESSION_ID },
    requestContext: {
      accountId: '000000000000',
      apiId: 'bench',
      domainName: 'bench.local',
      domainPrefix: 'bench',
      http: { method: 'POST', path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
      requestId: randomUUID(),
      routeKey: 'POST /sessions/{sessionId}/prefill',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
      authorizer: { jwt: { claims: { sub: 'bench', scope: 'guest-sync/write' }, scopes: ['guest-sync/write'] } },
    },
  };
}

/**
 * The bare handler: parse the body, PUT the attributes with a cached bearer token, answer.
 * No validation, hashing, masking, coercion, size check, audit, metrics or queueing.
 */
function bareHandler(genesysUrl: string, sqs?: { client: SQSClient; queueUrl: string }): Handler {
  let token: string | undefined;
  return async (input) => {
    const request = input as { body: string; pathParameters: { sessionId: string } };
    const { attributes, consent } = JSON.parse(request.body) as { attributes: Record<string, unknown>; consent?: Record<string, unknown> };
    if (!token) {
      const login = await fetch(`${genesysUrl}/oauth/token`, { method: 'POST', body: 'grant_type=client_credentials' });
      token = ((await login.json()) as { access_token: string }).access_token;
    }
    const response = await fetch(`${genesysUrl}/api/v2/guests/messagesessions/${request.pathParameters.sessionId}/attributes`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ attributes: { ...attributes, ...consent } }),
    });
    await response.text();
    if (sqs) {
      await sqs.client.send(
        new SendMessageBatchCommand({ QueueUrl: sqs.queueUrl, Entries: [{ Id: '0', MessageBody: JSON.stringify({ sessionId: request.pathParameters.sessionId, attributes }) }] }),
      );
    }
    return { statusCode: response.status, body: JSON.stringify({ sessionId: request.pathParameters.sessionId }) };
  };
}

/**
 * Swallows stdout while requests run: the handler writes an audit line and EMF metrics per
 * request there, and the benchmark's stdout carries only the Markdown document. The lines
 * are still built and written (to a counter), so their cost stays in the measurement.
 */
function muteStdout(): { restore: () => void; bytes: () => number } {
  const write = process.stdout.write.bind(process.stdout);
  let bytes = 0;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    return true;
  }) as typeof process.stdout.write;
  return { restore: () => void (process.stdout.write = write), bytes: () => bytes };
}

interface Variant {
  label: string;
  handler: Handler;
  samples: number[];
  failures: number;
}

/** Runs `count` requests per variant, the variants taking turns in blocks. */
async function measure(variants: Variant[], count: number): Promise<void> {
  for (let done = 0; done < count; done += BLOCK) {
    for (const variant of variants) {
      for (let i = 0; i < BLOCK; i += 1) variant.samples.push(await timeOne(variant));
    }
  }
}

async function timeOne(variant: Variant): Promise<number> {
  const input = event();
  const ctx = context();
  const began = performance.now();
  const result = await variant.handler(input, ctx);
  const elapsed = performance.now() - began;
  if (result.statusCode !== 200) variant.failures += 1;
  return elapsed;
}

const progress = (message: string): void => void process.stderr.write(`[bench] prefill latency: ${message}\n`);

async function main(): Promise<PrefillLatencyReport> {
  const closers: Array<() => Promise<void> | void> = [];
  try {
    const genesys = await startInstantGenesys();
    closers.push(genesys.close);
    const sqs = await startInstantSqs();
    closers.push(sqs.close);
    const secrets = await startLocalSecretsManager({
      [SECRET_IDS.genesys]: GENESYS_CLIENT,
      [SECRET_IDS.identity]: { salt: 'bench-identity-salt' },
    });
    closers.push(() => secrets.close());
    const queueUrl = `${sqs.url}/000000000000/bench-crm-sync`;

    // The deployed function's environment (serverless.yml), pointed at the loopback servers.
    Object.assign(process.env, {
      STAGE: 'bench',
      POWERTOOLS_SERVICE_NAME: 'genesys-guest-sync',
      POWERTOOLS_METRICS_NAMESPACE: 'GenesysGuestSync',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      GENESYS_API_BASE_URL: genesys.url,
      GENESYS_LOGIN_BASE_URL: genesys.url,
      GENESYS_CREDENTIALS_SECRET_ID: SECRET_IDS.genesys,
      IDENTITY_SALT_SECRET_ID: SECRET_IDS.identity,
      CRM_SYNC_QUEUE_URL: queueUrl,
      STATE_TABLE_NAME: 'bench-state',
      AWS_ENDPOINT_URL_SQS: sqs.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    // Imported after the environment is set: the function reads it at cold start.
    const { handler } = (await import('../../functions/http/prefill.ts')) as unknown as { handler: Handler };

    const sdkClient = new SQSClient({ region: 'eu-west-1', endpoint: sqs.url, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
    closers.push(() => sdkClient.destroy());
    const variants: Variant[] = [
      { label: 'bare handler: PUT with fetch, no validation', handler: bareHandler(genesys.url), samples: [], failures: 0 },
      { label: 'bare handler + one SendMessageBatch (same SDK)', handler: bareHandler(genesys.url, { client: sdkClient, queueUrl }), samples: [], failures: 0 },
      { label: 'prefill handler (functions/http/prefill.ts)', handler, samples: [], failures: 0 },
    ];

    const muted = muteStdout();
    closers.push(muted.restore);
    progress(`${WARM_UP} warm-up + ${MEASURED} measured requests per variant`);
    for (const variant of variants) for (let i = 0; i < WARM_UP; i += 1) await timeOne(variant);
    for (const variant of variants) variant.failures = 0;
    const putsBefore = genesys.count();
    const sendsBefore = sqs.count();
    const outputBefore = muted.bytes();
    await measure(variants, MEASURED);
    const puts = genesys.count() - putsBefore;
    const sends = sqs.count() - sendsBefore;
    const outputBytesPerRequest = (muted.bytes() - outputBefore) / MEASURED;

    progress(`${SLOW_MEASURED} requests per variant with Genesys answering after ${SLOW_GENESYS_MS} ms`);
    genesys.setDelay(SLOW_GENESYS_MS);
    const slowVariants: Variant[] = variants.map((v) => ({ ...v, samples: [], failures: 0 }));
    await measure(slowVariants, SLOW_MEASURED);
    muted.restore();

    const phase = (list: Variant[]) => ({ variants: list.map(({ label, samples, failures }) => ({ label, samples, failures })) });
    return {
      measured: MEASURED,
      warmUp: WARM_UP,
      block: BLOCK,
      slowGenesysMs: SLOW_GENESYS_MS,
      slowMeasured: SLOW_MEASURED,
      phases: [phase(variants), phase(slowVariants)],
      puts,
      sends,
      outputBytesPerRequest,
    };
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

const report = await main();
process.stdout.write(`${JSON.stringify(report)}\n`);
