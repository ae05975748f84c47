/**
 * Small factories for Lambda tests: API Gateway HTTP API (payload 2.0) events, a fake
 * Lambda context, SQS and EventBridge events, and a capture of everything the shared
 * Powertools logger writes.
 */
import { vi } from 'vitest';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import type { HttpEvent } from '#lib/lambda';

/** What a test says about an HTTP request; everything else gets a realistic default. */
export interface HttpEventOptions {
  method?: string;
  path?: string;
  /** A string is sent as is; anything else is JSON-serialised. */
  body?: unknown;
  /** Header names are lower-cased the way API Gateway does; `undefined` removes a default. */
  headers?: Record<string, string | undefined>;
  isBase64Encoded?: boolean;
  /** JWT claims from the HTTP API authorizer; absent means the route has no authorizer. */
  claims?: Record<string, string | number | boolean | string[]>;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
}

/** An API Gateway HTTP API payload 2.0 event. A body defaults to `content-type: application/json`. */
export function httpEvent(options: HttpEventOptions = {}): HttpEvent {
  const method = options.method ?? 'GET';
  const path = options.path ?? '/';
  const body =
    options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  const merged: Record<string, string | undefined> = {
    accept: '*/*',
    'user-agent': 'vitest',
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
  };
  for (const [name, value] of Object.entries(options.headers ?? {})) merged[name.toLowerCase()] = value;
  const headers = Object.fromEntries(
    Object.entries(merged).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const now = new Date('2025-01-15T10:30:00.000Z');
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
    headers,
    ...(options.query ? { queryStringParameters: options.query } : {}),
    ...(options.pathParameters ? { pathParameters: options.pathParameters } : {}),
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: options.isBase64Encoded ?? false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api1234567',
      domainName: 'api1234567.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'api1234567',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.10', userAgent: 'vitest' },
      requestId: 'gateway-request-id',
      routeKey: `${method} ${path}`,
      stage: '$default',
      time: '15/Jan/2025:10:30:00 +0000',
      timeEpoch: now.getTime(),
      ...(options.claims ? { authorizer: { jwt: { claims: options.claims, scopes: null } } } : {}),
    },
  };
}

/** A fake Lambda context with plenty of time left. */
export function lambdaContext(overrides: Partial<Context> = {}): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'genesys-guest-sync-test-fn',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:genesys-guest-sync-test-fn',
    memoryLimitInMB: '512',
    awsRequestId: 'c6af9ac6-7b61-41e6-9a41-93e8deadbeef',
    logGroupName: '/aws/lambda/genesys-guest-sync-test-fn',
    logStreamName: '2025/01/15/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
    ...overrides,
  };
}

/** One SQS record as Lambda delivers it. */
export function sqsRecord(body: unknown, messageId = 'message-1'): SQSRecord {
  return {
    messageId,
    receiptHandle: `receipt-${messageId}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1736937000000',
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: '1736937000001',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:crm-sync',
    awsRegion: 'eu-west-1',
  };
}

/** An SQS event holding the given records. */
export function sqsEvent(...records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

/** Everything written to stdout and stderr while capturing (the Powertools logger writes there). */
export interface CapturedOutput {
  /** All output as one string. */
  text(): string;
  /** Every output line that is a JSON object (log entries and EMF metrics). */
  entries(): Record<string, unknown>[];
  /** The log entries whose `message` is `message`. */
  logged(message: string): Record<string, unknown>[];
  restore(): void;
}

/**
 * Captures process output. Powertools' Logger writes through a `Console` it builds on
 * `process.stdout` / `process.stderr` at construction, so spying on the streams' `write`
 * sees exactly what would reach CloudWatch, and keeps the test output quiet.
 */
export function captureOutput(): CapturedOutput {
  const chunks: string[] = [];
  const record = (chunk: unknown): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(record as typeof process.stdout.write);
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(record as typeof process.stderr.write);
  const entries = (): Record<string, unknown>[] =>
    chunks
      .join('')
      .split('\n')
      .filter((line) => line.trim().startsWith('{'))
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  return {
    text: () => chunks.join(''),
    entries,
    logged: (message) => entries().filter((entry) => entry['message'] === message),
    restore: () => {
      stdout.mockRestore();
      stderr.mockRestore();
    },
  };
}
