/**
 * The measuring half of bench/prefill-latency.ts, run in a process of its own so that no
 * other benchmark's module state (shared clients, the logger's level, muted stdout) leaks
 * into it: the process starts with the environment a deployed prefill function has, loads
 * the real handler, and prints the samples as one JSON document on stdout at the end.
 *
 * Two phases, each the real handler next to a bare twin making the same writes over the
 * same SDK clients and loopback servers:
 * - not linked: the state table's three round trips of `PreparedSessions.prepare` (read the
 *   session, write the reference, write the session) and the SQS send;
 * - linked to a live conversation: the same, plus the participant-attributes PATCH.
 * The loopback servers count every call per variant, so the report shows both sides made
 * the same number of round trips.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, GetItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Context } from 'aws-lambda';
import { startLocalSecretsManager } from '#local/secrets-manager.ts';

/** Round trips one variant made, by kind. */
export type RoundTrips = Record<'get' | 'put' | 'patch' | 'send', number>;

/** What the worker reports, read by bench/prefill-latency.ts. */
export interface PrefillLatencyReport {
  measured: number;
  warmUp: number;
  block: number;
  phases: Array<{
    name: 'not linked' | 'linked';
    variants: Array<{ label: string; samples: number[]; failures: number; roundTrips: RoundTrips }>;
  }>;
  outputBytesPerRequest: number;
}

const MEASURED = 2_000;
const WARM_UP = 200;
/** Variants take turns in blocks of this many requests, so drift spreads over all of them. */
const BLOCK = 100;
const SESSION_ID = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
const LINKED_SESSION_ID = '7c9e6679-7425-40de-944b-e07fc1f90ae8';
const LINK = { conversationId: 'c0c0c0c0-0000-4000-8000-0000000000c1', participantId: 'b0b0b0b0-0000-4000-8000-0000000000b1' };
const TABLE_NAME = 'bench-state';
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

/** Which variant the loopback servers count the next calls for (requests run one at a time). */
let counting: RoundTrips | undefined;
const noteCall = (kind: keyof RoundTrips): void => {
  if (counting) counting[kind] += 1;
};
const noTrips = (): RoundTrips => ({ get: 0, put: 0, patch: 0, send: 0 });

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

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/** Genesys that answers at once: a token for any client, 202 for every participant-attributes PATCH. */
async function startInstantGenesys(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/oauth/token') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"access_token":"bench-token","token_type":"bearer","expires_in":86400}');
        return;
      }
      if (req.method === 'PATCH' && /^\/api\/v2\/conversations\/[^/]+\/participants\/[^/]+\/attributes$/.test(req.url ?? '')) {
        noteCall('patch');
        res.writeHead(202).end();
        return;
      }
      res.writeHead(404).end();
    });
  });
  const url = await listen(server);
  return { url, close: closer(server) };
}

/**
 * DynamoDB (AWS JSON 1.0) that answers at once from memory: GetItem and PutItem (conditions
 * always hold: requests run one at a time) and DeleteItem.
 */
async function startInstantDynamoDb(): Promise<{ url: string; close: () => Promise<void> }> {
  const items = new Map<string, Record<string, AttributeValue>>();
  const server = createServer((req, res) => {
    void readBody(req).then((text) => {
      const target = String(req.headers['x-amz-target'] ?? '').split('.').pop();
      const input = JSON.parse(text || '{}') as { Key?: { pk: { S: string } }; Item?: Record<string, AttributeValue> & { pk: { S: string } } };
      let answer: unknown = {};
      if (target === 'GetItem') {
        noteCall('get');
        const item = items.get(input.Key?.pk.S ?? '');
        answer = item ? { Item: item } : {};
      } else if (target === 'PutItem' && input.Item) {
        noteCall('put');
        items.set(input.Item.pk.S, input.Item);
      } else if (target === 'DeleteItem') {
        items.delete(input.Key?.pk.S ?? '');
      }
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() }).end(JSON.stringify(answer));
    });
  });
  const url = await listen(server);
  return { url, close: closer(server) };
}

/** SQS (AWS JSON protocol) that accepts every SendMessageBatch at once, with the MD5s the SDK checks. */
async function startInstantSqs(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    void readBody(req).then((text) => {
      const input = JSON.parse(text || '{}') as { Entries?: Array<{ Id: string; MessageBody: string }> };
      noteCall('send');
      const successful = (input.Entries ?? []).map((entry) => ({
        Id: entry.Id,
        MessageId: randomUUID(),
        MD5OfMessageBody: createHash('md5').update(entry.MessageBody).digest('hex'),
      }));
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() }).end(JSON.stringify({ Successful: successful, Failed: [] }));
    });
  });
  const url = await listen(server);
  return { url, close: closer(server) };
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
function event(sessionId: string): unknown {
  const path = `/sessions/${sessionId}/prefill`;
  return {
    version: '2.0',
    routeKey: 'POST /sessions/{sessionId}/prefill',
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', 'x-request-id': randomUUID() },
    body: BODY,
    isBase64Encoded: false,
    pathParameters: { sessionId },
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
 * The bare twin: parse the body, make the writes prefill makes with the same SDK clients
 * (read the session, write the reference, write the session; PATCH the participant with a
 * cached bearer token when `link` is given; one SendMessageBatch), answer. No validation,
 * hashing, masking, coercion, size check, audit, metrics, retries or deadlines.
 */
function bareTwin(deps: { dynamo: DynamoDBClient; sqs: SQSClient; queueUrl: string; genesysUrl: string; link?: typeof LINK }): Handler {
  let token: string | undefined;
  return async (input) => {
    const request = input as { body: string; pathParameters: { sessionId: string } };
    const { sessionId } = request.pathParameters;
    const { attributes, consent } = JSON.parse(request.body) as { attributes: Record<string, unknown>; consent?: Record<string, unknown> };
    const merged = Object.fromEntries(Object.entries({ ...attributes, ...consent }).map(([key, value]) => [key, String(value)]));
    const existing = await deps.dynamo.send(new GetItemCommand({ TableName: TABLE_NAME, Key: marshall({ pk: `session#${sessionId}` }), ConsistentRead: true }));
    const gsRef = (existing.Item?.['gsRef']?.S as string | undefined) ?? randomUUID();
    const expiresAt = Math.floor(Date.now() / 1000) + 1800;
    await deps.dynamo.send(new PutItemCommand({ TableName: TABLE_NAME, Item: marshall({ pk: `gsref#${gsRef}`, sessionId, expiresAt }) }));
    await deps.dynamo.send(
      new PutItemCommand({ TableName: TABLE_NAME, Item: marshall({ pk: `session#${sessionId}`, sessionId, gsRef, attributes: merged, expiresAt }) }),
    );
    if (deps.link) {
      if (!token) {
        const login = await fetch(`${deps.genesysUrl}/oauth/token`, { method: 'POST', body: 'grant_type=client_credentials' });
        token = ((await login.json()) as { access_token: string }).access_token;
      }
      const response = await fetch(`${deps.genesysUrl}/api/v2/conversations/${deps.link.conversationId}/participants/${deps.link.participantId}/attributes`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ attributes: { ...merged, gsRef } }),
      });
      await response.text();
    }
    await deps.sqs.send(
      new SendMessageBatchCommand({ QueueUrl: deps.queueUrl, Entries: [{ Id: '0', MessageBody: JSON.stringify({ sessionId, attributes }) }] }),
    );
    return { statusCode: 200, body: JSON.stringify({ sessionId, customAttributes: { ...merged, gsRef } }) };
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
  sessionId: string;
  samples: number[];
  failures: number;
  roundTrips: RoundTrips;
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
  const input = event(variant.sessionId);
  const ctx = context();
  counting = variant.roundTrips;
  const began = performance.now();
  const result = await variant.handler(input, ctx);
  const elapsed = performance.now() - began;
  counting = undefined;
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
    const dynamodb = await startInstantDynamoDb();
    closers.push(dynamodb.close);
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
      STATE_TABLE_NAME: TABLE_NAME,
      PREFILL_TTL_SECONDS: '1800',
      AWS_ENDPOINT_URL_SQS: sqs.url,
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    // Imported after the environment is set: the function reads it at cold start.
    const { handler } = (await import('#functions/http/prefill.ts')) as unknown as { handler: Handler };
    const { DynamoStateTable, PreparedSessions } = await import('#lib/state');

    const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
    const sdkSqs = new SQSClient({ region: 'eu-west-1', endpoint: sqs.url, credentials });
    const sdkDynamo = new DynamoDBClient({ region: 'eu-west-1', endpoint: dynamodb.url, credentials });
    closers.push(() => sdkSqs.destroy(), () => sdkDynamo.destroy());

    // The linked session: prepared once by the real handler, then linked as the events function will.
    const muted = muteStdout();
    closers.push(muted.restore);
    await handler(event(LINKED_SESSION_ID), context());
    await new PreparedSessions(new DynamoStateTable({ tableName: TABLE_NAME, client: sdkDynamo })).link(LINKED_SESSION_ID, LINK, new Date().toISOString());

    const variant = (label: string, h: Handler, sessionId: string): Variant => ({ label, handler: h, sessionId, samples: [], failures: 0, roundTrips: noTrips() });
    const twin = { dynamo: sdkDynamo, sqs: sdkSqs, queueUrl, genesysUrl: genesys.url };
    const phases: Array<{ name: 'not linked' | 'linked'; variants: Variant[] }> = [
      {
        name: 'not linked',
        variants: [
          variant('bare twin: get + 2 puts + SendMessageBatch', bareTwin(twin), SESSION_ID),
          variant('prefill handler (functions/http/prefill.ts)', handler, SESSION_ID),
        ],
      },
      {
        name: 'linked',
        variants: [
          variant('bare twin: get + 2 puts + PATCH + SendMessageBatch', bareTwin({ ...twin, link: LINK }), `${LINKED_SESSION_ID.slice(0, -1)}9`),
          variant('prefill handler (functions/http/prefill.ts)', handler, LINKED_SESSION_ID),
        ],
      },
    ];

    let outputBytes = 0;
    for (const phase of phases) {
      progress(`${phase.name}: ${WARM_UP} warm-up + ${MEASURED} measured requests per variant`);
      for (const v of phase.variants) for (let i = 0; i < WARM_UP; i += 1) await timeOne(v);
      for (const v of phase.variants) {
        v.samples = [];
        v.failures = 0;
        v.roundTrips = noTrips();
      }
      const before = muted.bytes();
      await measure(phase.variants, MEASURED);
      outputBytes += muted.bytes() - before;
    }
    muted.restore();

    return {
      measured: MEASURED,
      warmUp: WARM_UP,
      block: BLOCK,
      phases: phases.map((phase) => ({
        name: phase.name,
        variants: phase.variants.map(({ label, samples, failures, roundTrips }) => ({ label, samples, failures, roundTrips })),
      })),
      // Only the handler writes to stdout: one request of each phase per measured pair.
      outputBytesPerRequest: outputBytes / (MEASURED * phases.length),
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
