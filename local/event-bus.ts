/**
 * The local event bus (docs/api.md section 9): takes EventBridge `PutEvents` calls (AWS JSON
 * 1.1, `X-Amz-Target: AWSEvents.PutEvents`, as `@aws-sdk/client-eventbridge` sends them)
 * for one bus, matches each event against the rules serverless.yml declares on that bus
 * (the same patterns, read by local/serverless-config.ts), and delivers it to the rule's
 * function the way AWS does: at least once, retried with exponential backoff, then
 * dead-lettered in the embedded SQS with the reason.
 *
 * AWS has two retry layers here and this bus plays both: EventBridge invokes a Lambda
 * target asynchronously, so its rule retry policy (`maximumRetryAttempts`,
 * `maximumEventAge`) and the rule's DLQ cover a delivery that fails (the invoke API
 * unreachable or refusing); an error the function throws is retried by Lambda's
 * asynchronous invocation (`maximumRetryAttempts` of the function, 2 by default) and then
 * sent to the function's on-failure destination. Dead letters carry what AWS puts in them:
 * the event with `ERROR_CODE`, `ERROR_MESSAGE`, `RULE_ARN`, `TARGET_ARN`, `RETRY_ATTEMPTS`
 * message attributes (EventBridge), or the invocation record with the function's error
 * (Lambda).
 *
 * Written here rather than taken from `serverless-offline-aws-eventbridge` (2.2.4, the
 * maintained plugin for this): it was evaluated and does not do what the contract asks.
 * It matches the bus by substring (`eventBus.includes(name)`, so any bus whose name is
 * part of another matches), retries a failed handler a fixed number of times at a fixed
 * delay (its own `maximumRetryAttempts` / `retryDelayMs` options, not the rule's
 * `retryPolicy`, no backoff), has no dead-letter queue at all (an exhausted event is
 * thrown away or rethrown), and runs handlers inside serverless-offline's process instead
 * of through the stack's Lambda invoke path. The pattern matcher below covers the
 * EventBridge pattern operators a rule of this suite may use and refuses the others at
 * start, so a pattern it cannot honour fails loudly instead of matching wrongly.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateQueueCommand, SendMessageCommand, type MessageAttributeValue, type SQSClient } from '@aws-sdk/client-sqs';
import type { InvokeResult } from './lambda-invoke.ts';
import { listenOnLoopback } from './ports.ts';
import type { EventRuleSpec } from './serverless-config.ts';

/** The envelope EventBridge hands a target (`detail` typed by the event's source). */
export interface EventBridgeEnvelope<Detail = unknown> {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Detail;
}

// ---------------------------------------------------------------------------------------
// Event patterns

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

const OPERATORS = new Set(['prefix', 'suffix', 'exists', 'anything-but', 'equals-ignore-case']);

/** Throws naming the first part of `pattern` this bus cannot match as EventBridge would. */
export function assertSupportedPattern(pattern: unknown, path = 'pattern'): void {
  if (!isObject(pattern)) throw new Error(`${path} must be an object`);
  for (const [key, value] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!Array.isArray(value) || value.length === 0) throw new Error(`${path}.$or must be a non-empty array`);
      value.forEach((alternative, index) => assertSupportedPattern(alternative, `${path}.$or[${index}]`));
    } else if (Array.isArray(value)) {
      for (const item of value) {
        if (isObject(item)) {
          const [operator, ...more] = Object.keys(item);
          if (!operator || more.length > 0 || !OPERATORS.has(operator)) {
            throw new Error(`${path}.${key} uses ${JSON.stringify(item)}, an operator the local event bus does not support`);
          }
        }
      }
    } else if (isObject(value)) {
      assertSupportedPattern(value, `${path}.${key}`);
    } else {
      throw new Error(`${path}.${key} must be an array of values or a nested pattern`);
    }
  }
}

function matchesValue(condition: unknown, value: unknown, present: boolean): boolean {
  if (!isObject(condition)) return present && value === condition;
  const [operator] = Object.keys(condition);
  const operand = condition[operator as string];
  if (operator === 'exists') return operand === present;
  if (!present) return false;
  if (operator === 'prefix') return typeof value === 'string' && typeof operand === 'string' && value.startsWith(operand);
  if (operator === 'suffix') return typeof value === 'string' && typeof operand === 'string' && value.endsWith(operand);
  if (operator === 'equals-ignore-case') return typeof value === 'string' && typeof operand === 'string' && value.toLowerCase() === operand.toLowerCase();
  if (operator === 'anything-but') return !(Array.isArray(operand) ? operand : [operand]).includes(value);
  return false;
}

/** Whether an event matches an EventBridge event pattern (the operators `assertSupportedPattern` allows). */
export function matchesPattern(pattern: Json, event: unknown): boolean {
  const target = isObject(event) ? event : {};
  return Object.entries(pattern).every(([key, condition]) => {
    if (key === '$or') return (condition as Json[]).some((alternative) => matchesPattern(alternative, target));
    const present = key in target;
    const value = target[key];
    if (isObject(condition)) return present && isObject(value) && matchesPattern(condition, value);
    const conditions = condition as unknown[];
    // An array in the event matches when any of its elements does.
    const values = Array.isArray(value) ? value : [value];
    return conditions.some((c) => (Array.isArray(value) && value.length === 0 ? matchesValue(c, undefined, false) : values.some((v) => matchesValue(c, v, present))));
  });
}

// ---------------------------------------------------------------------------------------
// The bus

/** Options of `startLocalEventBus`. */
export interface LocalEventBusOptions {
  /** Port on 127.0.0.1; 0 picks a free one. */
  port: number;
  /** The one bus this endpoint serves (PutEvents to another name fails that entry). */
  eventBusName: string;
  /** The rules of serverless.yml; only those on `eventBusName` are used. */
  rules: EventRuleSpec[];
  /** Invokes a function by its deployed name (the stack's Lambda invoke path). */
  invoke(functionName: string, event: EventBridgeEnvelope): Promise<InvokeResult<unknown>>;
  /** The embedded SQS, where the rules' dead-letter queues are created. */
  sqs: SQSClient;
  account?: string;
  region?: string;
  /** First retry delay (default 1 000 ms); each retry doubles it, with full jitter, up to `maxDelayMs`. */
  baseDelayMs?: number;
  /** Longest wait between attempts (default 30 000 ms). */
  maxDelayMs?: number;
  log?: (line: string) => void;
}

/** What the bus has done so far. */
export interface LocalEventBusStats {
  received: number;
  matched: number;
  delivered: number;
  retried: number;
  deadLettered: number;
  inFlight: number;
}

/** A running local event bus. */
export interface LocalEventBus {
  url: string;
  eventBusName: string;
  /** The URL of each rule's dead-letter queue, by the queue's logical id. */
  dlqUrls: Record<string, string>;
  stats(): LocalEventBusStats;
  /** Resolves once every event received so far is delivered or dead-lettered. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

class PutEventsError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

const busNameOf = (value: unknown): string => {
  if (typeof value !== 'string' || value === '') return 'default';
  return value.startsWith('arn:') ? value.slice(value.indexOf(':event-bus/') + ':event-bus/'.length) : value;
};

const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Starts the local event bus on 127.0.0.1. */
export async function startLocalEventBus(options: LocalEventBusOptions): Promise<LocalEventBus> {
  const account = options.account ?? '000000000000';
  const region = options.region ?? 'us-east-1';
  const baseDelayMs = options.baseDelayMs ?? 1_000;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const log = options.log ?? (() => undefined);
  const rules = options.rules.filter((rule) => rule.eventBusName === options.eventBusName);
  for (const rule of rules) assertSupportedPattern(rule.pattern, `rule ${rule.ruleName}`);

  // The dead-letter queues the rules and functions name, in the embedded SQS.
  const dlqUrls: Record<string, string> = {};
  for (const queue of rules.flatMap((rule) => [rule.dlq, rule.onFailure]).filter((q) => q !== undefined)) {
    if (dlqUrls[queue.logicalId]) continue;
    const created = await options.sqs.send(new CreateQueueCommand({ QueueName: queue.queueName, Attributes: { MessageRetentionPeriod: '1209600' } }));
    dlqUrls[queue.logicalId] = created.QueueUrl ?? '';
  }

  const stats: LocalEventBusStats = { received: 0, matched: 0, delivered: 0, retried: 0, deadLettered: 0, inFlight: 0 };
  const inFlight = new Set<Promise<void>>();
  let closed = false;
  const timers = new Set<NodeJS.Timeout>();
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });
  const backoff = (retry: number): number => Math.round(Math.random() * Math.min(maxDelayMs, baseDelayMs * 2 ** retry));
  const ruleArn = (rule: EventRuleSpec): string => `arn:aws:events:${region}:${account}:rule/${options.eventBusName}/${rule.ruleName}`;
  const functionArn = (rule: EventRuleSpec): string => `arn:aws:lambda:${region}:${account}:function:${rule.functionName}`;

  const deadLetter = async (
    queue: { logicalId: string } | undefined,
    body: string,
    attributes: Record<string, string>,
    rule: EventRuleSpec,
    event: EventBridgeEnvelope,
  ): Promise<void> => {
    stats.deadLettered += 1;
    const url = queue ? dlqUrls[queue.logicalId] : undefined;
    if (!url) {
      log(`[event-bus] ${rule.ruleName}: event ${event.id} dropped after its retries (no dead-letter queue): ${attributes['ERROR_MESSAGE'] ?? ''}`);
      return;
    }
    const messageAttributes: Record<string, MessageAttributeValue> = Object.fromEntries(
      Object.entries(attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
    );
    await options.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body, MessageAttributes: messageAttributes }));
    log(`[event-bus] ${rule.ruleName}: event ${event.id} dead-lettered (${attributes['ERROR_CODE'] ?? 'error'})`);
  };

  /** Delivers one event to one rule's function, as EventBridge and Lambda's asynchronous invocation do. */
  const deliver = async (rule: EventRuleSpec, event: EventBridgeEnvelope, receivedAt: number): Promise<void> => {
    let deliveryRetries = 0;
    let functionRetries = 0;
    for (;;) {
      if (closed) return;
      let result: InvokeResult<unknown>;
      try {
        result = await options.invoke(rule.functionName, event);
      } catch (error) {
        result = { ok: false, payload: undefined, error: error instanceof Error ? error.message : String(error) };
      }
      if (result.ok) {
        stats.delivered += 1;
        return;
      }
      const age = (Date.now() - receivedAt) / 1000;
      if (result.functionError) {
        // Lambda's asynchronous invocation: the function threw; retry, then the on-failure destination.
        if (functionRetries < rule.functionRetryAttempts && age < rule.functionMaximumEventAgeSeconds) {
          stats.retried += 1;
          await sleep(backoff(functionRetries));
          functionRetries += 1;
          continue;
        }
        const record = {
          version: '1.0',
          timestamp: new Date().toISOString(),
          requestContext: {
            requestId: randomUUID(),
            functionArn: `${functionArn(rule)}:$LATEST`,
            condition: functionRetries < rule.functionRetryAttempts ? 'EventAgeExceeded' : 'RetriesExhausted',
            approximateInvokeCount: functionRetries + 1,
          },
          requestPayload: event,
          responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: result.functionError },
          responsePayload: { errorMessage: result.error ?? 'the function failed' },
        };
        await deadLetter(
          rule.onFailure ?? rule.dlq,
          JSON.stringify(record),
          { ERROR_CODE: 'FunctionError', ERROR_MESSAGE: (result.error ?? '').slice(0, 256), RETRY_ATTEMPTS: String(functionRetries), RULE_ARN: ruleArn(rule), TARGET_ARN: functionArn(rule) },
          rule,
          event,
        );
        return;
      }
      // EventBridge: the delivery itself failed; the rule's retry policy, then its DLQ.
      if (deliveryRetries < rule.maximumRetryAttempts && age < rule.maximumEventAgeSeconds) {
        stats.retried += 1;
        await sleep(backoff(deliveryRetries));
        deliveryRetries += 1;
        continue;
      }
      await deadLetter(
        rule.dlq,
        JSON.stringify(event),
        {
          ERROR_CODE: 'SDK_CLIENT_ERROR',
          ERROR_MESSAGE: (result.error ?? 'the invocation failed').slice(0, 256),
          EXHAUSTED_RETRY_CONDITION: deliveryRetries >= rule.maximumRetryAttempts ? 'MaximumRetryAttempts' : 'MaximumEventAgeInSeconds',
          RETRY_ATTEMPTS: String(deliveryRetries),
          RULE_ARN: ruleArn(rule),
          TARGET_ARN: functionArn(rule),
        },
        rule,
        event,
      );
      return;
    }
  };

  const track = (work: Promise<void>): void => {
    stats.inFlight += 1;
    const tracked = work
      .catch((error: unknown) => log(`[event-bus] delivery failed: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => {
        stats.inFlight -= 1;
        inFlight.delete(tracked);
      });
    inFlight.add(tracked);
  };

  const putEvents = (body: unknown): { FailedEntryCount: number; Entries: Array<Record<string, string>> } => {
    const entries = isObject(body) ? body['Entries'] : undefined;
    if (!Array.isArray(entries) || entries.length === 0 || entries.length > 10) {
      throw new PutEventsError(400, 'ValidationException', 'Entries must hold 1 to 10 entries');
    }
    const answers = entries.map((raw): Record<string, string> => {
      const entry = isObject(raw) ? raw : {};
      const bus = busNameOf(entry['EventBusName']);
      if (bus !== options.eventBusName) return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${bus} does not exist.` };
      const { Source: source, DetailType: detailType, Detail: detailText } = entry;
      if (typeof source !== 'string' || source === '') return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Source is not valid.' };
      if (typeof detailType !== 'string' || detailType === '') return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter DetailType is not valid.' };
      let detail: unknown;
      try {
        detail = typeof detailText === 'string' ? JSON.parse(detailText) : undefined;
      } catch {
        detail = undefined;
      }
      if (!isObject(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
      const time = typeof entry['Time'] === 'number' ? entry['Time'] * 1000 : typeof entry['Time'] === 'string' ? Date.parse(entry['Time']) : Date.now();
      const event: EventBridgeEnvelope = {
        version: '0',
        id: randomUUID(),
        'detail-type': detailType,
        source,
        account,
        time: isoSeconds(Number.isFinite(time) ? time : Date.now()),
        region,
        resources: Array.isArray(entry['Resources']) ? entry['Resources'].filter((r): r is string => typeof r === 'string') : [],
        detail,
      };
      stats.received += 1;
      const receivedAt = Date.now();
      for (const rule of rules) {
        if (!matchesPattern(rule.pattern, event)) continue;
        stats.matched += 1;
        track(deliver(rule, event, receivedAt));
      }
      return { EventId: event.id };
    });
    return { FailedEntryCount: answers.filter((answer) => answer['ErrorCode']).length, Entries: answers };
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
      res.end(JSON.stringify(body));
    };
    // What the bus has done so far, for tests that must wait until every event was handled.
    if (req.method === 'GET' && req.url === '/__local/stats') return send(200, { ...stats });
    readBody(req)
      .then((text) => {
        const target = req.headers['x-amz-target'];
        if (req.method !== 'POST' || target !== 'AWSEvents.PutEvents') {
          throw new PutEventsError(400, 'UnknownOperationException', `The local event bus serves AWSEvents.PutEvents only (got ${String(target ?? req.method)})`);
        }
        let body: unknown;
        try {
          body = JSON.parse(text || '{}');
        } catch {
          throw new PutEventsError(400, 'SerializationException', 'The request body is not JSON');
        }
        send(200, putEvents(body));
      })
      .catch((error: unknown) => {
        if (error instanceof PutEventsError) return send(error.status, { __type: error.type, message: error.message });
        send(500, { __type: 'InternalException', message: error instanceof Error ? error.message : String(error) });
      });
  });
  await listenOnLoopback(server, options.port, 'local event bus');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    eventBusName: options.eventBusName,
    dlqUrls,
    stats: () => ({ ...stats }),
    settled: async () => {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
    close: async () => {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
