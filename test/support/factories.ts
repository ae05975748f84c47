/**
 * The one place tests build what the suite receives: API Gateway HTTP API (payload 2.0)
 * events, SQS records and events, EventBridge events, and CRM sync jobs with the SQS
 * records they arrive in. Each takes only what a test says about it and gives the rest a
 * realistic default.
 */
import type { EventBridgeEvent, SQSEvent, SQSRecord } from 'aws-lambda';
import { buildJob, deterministicJobId, toMessageBody, type CrmRecord, type CrmSyncJob } from '#lib/jobs';
import type { JobSource } from '#lib/jobs/job.ts';
import type { HttpEvent } from '#lib/lambda/http.ts';

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

/** What a test says about an EventBridge event; the envelope gets realistic defaults. */
export interface EventBridgeEventOptions<TDetailType extends string, TDetail> {
  detailType: TDetailType;
  source: string;
  detail: TDetail;
  id?: string;
  time?: string;
  resources?: string[];
}

/** An event as EventBridge delivers it to a target (a rule's Lambda or the local bus). */
export function eventBridgeEvent<TDetailType extends string, TDetail>(
  options: EventBridgeEventOptions<TDetailType, TDetail>,
): EventBridgeEvent<TDetailType, TDetail> {
  return {
    version: '0',
    id: options.id ?? '5f3b0e4a-8c1d-4e2f-9a6b-7c8d9e0f1a2b',
    'detail-type': options.detailType,
    source: options.source,
    account: '123456789012',
    time: options.time ?? '2025-03-01T12:00:00Z',
    region: 'eu-west-1',
    resources: options.resources ?? [],
    detail: options.detail,
  };
}

/** What a test says about a job; everything else gets a realistic default. */
export interface JobOptions {
  externalId?: string;
  /** `sourceUpdatedAt` (and `lastInteraction`). */
  at?: string;
  source?: JobSource;
  attributes?: CrmRecord['attributes'];
  /** Identity hash and consent; `null` leaves the field out (a job that does not carry it). */
  emailHash?: string | null;
  consentFlags?: CrmRecord['consentFlags'] | null;
  /** When the producer enqueued it; defaults to `at`. */
  enqueuedAt?: string | Date;
}

/** A valid job whose id is derived from its content, as producers do. */
export function job(options: JobOptions = {}): CrmSyncJob {
  const at = options.at ?? '2025-03-01T10:00:00.000Z';
  const source = options.source ?? 'guest';
  const record: CrmRecord = {
    externalId: options.externalId ?? 'guest-1',
    ...(options.emailHash === null ? {} : { emailHash: options.emailHash ?? 'a'.repeat(64) }),
    ...(options.consentFlags === null ? {} : { consentFlags: options.consentFlags ?? { marketing: false, dataProcessing: true } }),
    attributes: options.attributes ?? { tier: 'gold' },
    lastInteraction: at,
    sourceUpdatedAt: at,
  };
  return buildJob(source, deterministicJobId(source, record), record, new Date(options.enqueuedAt ?? at));
}

/**
 * Version `version` of guest `externalId`, enqueued now: each later version is a second
 * later, flips marketing consent and changes the attributes, as a guest editing a profile would.
 */
export function jobVersion(externalId: string, version = 1, options: JobOptions = {}): CrmSyncJob {
  return job({
    externalId,
    at: new Date(Date.parse('2025-03-01T10:00:00.000Z') + version * 1_000).toISOString(),
    consentFlags: { marketing: version % 2 === 0, dataProcessing: true },
    attributes: { version, tier: version > 2 ? 'gold' : 'standard' },
    enqueuedAt: new Date(),
    ...options,
  });
}

/** The SQS record a job arrives in (`receiveCount` is SQS's ApproximateReceiveCount). */
export function jobRecord(job: CrmSyncJob, messageId = `m-${job.jobId}`, receiveCount = 1): SQSRecord {
  const record = sqsRecord(toMessageBody(job), messageId);
  record.attributes.ApproximateReceiveCount = String(receiveCount);
  record.messageAttributes = {
    jobId: { dataType: 'String', stringValue: job.jobId, stringListValues: [], binaryListValues: [] },
    source: { dataType: 'String', stringValue: job.source, stringListValues: [], binaryListValues: [] },
  };
  return record;
}
