/**
 * Reads serverless.yml as osls resolves it for a stage, so the local stack takes its
 * functions, event sources, schedules and queue settings from the same file as AWS
 * (no second route table).
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** An `sqs` event of a function, as the event source mapping needs it. */
export interface SqsEventSourceSpec {
  functionKey: string;
  functionName: string;
  queueLogicalId: string;
  batchSize: number;
  maximumBatchingWindowSeconds: number;
  maximumConcurrency: number;
  reportBatchItemFailures: boolean;
}

/** A `schedule` event of a function. */
export interface ScheduleSpec {
  functionKey: string;
  functionName: string;
  expression: string;
  enabled: boolean;
  input?: unknown;
}

/** Queue settings taken from the CloudFormation resources. */
export interface QueueSpec {
  logicalId: string;
  visibilityTimeoutSeconds: number;
  retentionSeconds: number;
  redrive?: { dlqLogicalId: string; maxReceiveCount: number };
}

/** A DynamoDB table from the CloudFormation resources, as CreateTable takes it. */
export interface TableSpec {
  logicalId: string;
  tableName: string;
  keySchema: Array<{ AttributeName: string; KeyType: 'HASH' | 'RANGE' }>;
  attributeDefinitions: Array<{ AttributeName: string; AttributeType: 'S' | 'N' | 'B' }>;
  globalSecondaryIndexes: Array<{
    IndexName: string;
    KeySchema: Array<{ AttributeName: string; KeyType: 'HASH' | 'RANGE' }>;
    Projection: { ProjectionType: 'ALL' | 'KEYS_ONLY' | 'INCLUDE'; NonKeyAttributes?: string[] };
  }>;
  ttlAttribute?: string;
}

/**
 * An `eventBridge` event of a function with a pattern (a rule on a bus), with what the
 * local event bus needs to deliver as AWS does: the rule's retry policy and DLQ, and the
 * function's asynchronous invocation retries and on-failure destination.
 */
export interface EventRuleSpec {
  functionKey: string;
  functionName: string;
  ruleName: string;
  /** The bus name (a `Fn::GetAtt [Bus, Name]` resolved to the bus resource's Name). */
  eventBusName: string;
  /** The event pattern, exactly as serverless.yml gives it. */
  pattern: Record<string, unknown>;
  /** The rule target's retry policy (EventBridge's defaults: 24 h, 185 retries). */
  maximumEventAgeSeconds: number;
  maximumRetryAttempts: number;
  /** The rule target's dead-letter queue. */
  dlq?: { logicalId: string; queueName: string };
  /** Lambda's asynchronous invocation of the function (defaults: 2 retries, 6 h). */
  functionRetryAttempts: number;
  functionMaximumEventAgeSeconds: number;
  /** The function's on-failure destination, when it is one of the stack's queues. */
  onFailure?: { logicalId: string; queueName: string };
}

/** What the local stack needs from the resolved service definition. */
export interface LocalServiceSpec {
  service: string;
  stage: string;
  functionKeys: string[];
  sqsEventSources: SqsEventSourceSpec[];
  schedules: ScheduleSpec[];
  queues: Record<string, QueueSpec>;
  tables: Record<string, TableSpec>;
  eventRules: EventRuleSpec[];
}

/** The osls executable that ships with the project. */
export function oslsBin(): string {
  return createRequire(import.meta.url).resolve('osls/bin/serverless.js');
}

type Json = Record<string, unknown>;
const obj = (value: unknown): Json => (typeof value === 'object' && value !== null ? (value as Json) : {});
const logicalIdOf = (value: unknown): string | undefined => {
  const v = obj(value);
  const getAtt = v['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  if (typeof v['Ref'] === 'string') return v['Ref'];
  return undefined;
};

/** Extracts the local stack's view from a resolved service definition (pure, for tests). */
export function toLocalServiceSpec(config: Json, stage: string): LocalServiceSpec {
  const service = String(config['service']);
  const functions = obj(config['functions']);
  const sqsEventSources: SqsEventSourceSpec[] = [];
  const schedules: ScheduleSpec[] = [];
  const eventRules: EventRuleSpec[] = [];
  const resources = obj(obj(config['resources'])['Resources']);
  const queueOf = (value: unknown): { logicalId: string; queueName: string } | undefined => {
    const logicalId = logicalIdOf(value);
    const queue = logicalId ? obj(resources[logicalId]) : {};
    if (!logicalId || queue['Type'] !== 'AWS::SQS::Queue') return undefined;
    return { logicalId, queueName: String(obj(queue['Properties'])['QueueName'] ?? logicalId) };
  };
  const busNameOf = (value: unknown): string => {
    if (typeof value === 'string') return value.startsWith('arn:') ? value.slice(value.indexOf('/') + 1) : value;
    const logicalId = logicalIdOf(value);
    return String(obj(obj(resources[logicalId ?? ''])['Properties'])['Name'] ?? 'default');
  };
  for (const [functionKey, definition] of Object.entries(functions)) {
    const fn = obj(definition);
    const functionName = typeof fn['name'] === 'string' ? fn['name'] : `${service}-${stage}-${functionKey}`;
    for (const event of Array.isArray(fn['events']) ? fn['events'] : []) {
      const e = obj(event);
      if (e['sqs'] !== undefined) {
        const sqs = obj(e['sqs']);
        sqsEventSources.push({
          functionKey,
          functionName,
          queueLogicalId: logicalIdOf(sqs['arn']) ?? '',
          batchSize: Number(sqs['batchSize'] ?? 10),
          maximumBatchingWindowSeconds: Number(sqs['maximumBatchingWindow'] ?? 0),
          maximumConcurrency: Number(sqs['maximumConcurrency'] ?? 2),
          reportBatchItemFailures: sqs['functionResponseType'] === 'ReportBatchItemFailures',
        });
      }
      if (e['eventBridge'] !== undefined && obj(e['eventBridge'])['pattern'] !== undefined) {
        const rule = obj(e['eventBridge']);
        const retry = obj(rule['retryPolicy']);
        const dlq = queueOf(rule['deadLetterQueueArn']);
        const onFailureRaw = obj(obj(fn['destinations'])['onFailure']);
        const onFailure = queueOf(onFailureRaw['arn']);
        eventRules.push({
          functionKey,
          functionName,
          ruleName: typeof rule['name'] === 'string' ? rule['name'] : `${functionName}-rule-${eventRules.length + 1}`,
          eventBusName: busNameOf(rule['eventBus'] ?? 'default'),
          pattern: obj(rule['pattern']),
          maximumEventAgeSeconds: Number(retry['maximumEventAge'] ?? 86_400),
          maximumRetryAttempts: Number(retry['maximumRetryAttempts'] ?? 185),
          ...(dlq ? { dlq } : {}),
          functionRetryAttempts: Number(fn['maximumRetryAttempts'] ?? 2),
          functionMaximumEventAgeSeconds: Number(fn['maximumEventAge'] ?? 21_600),
          ...(onFailure ? { onFailure } : {}),
        });
      }
      if (e['schedule'] !== undefined) {
        const raw = e['schedule'];
        const schedule = typeof raw === 'string' ? { rate: raw } : obj(raw);
        const rates = Array.isArray(schedule['rate']) ? schedule['rate'] : [schedule['rate']];
        for (const expression of rates) {
          if (typeof expression !== 'string') continue;
          schedules.push({
            functionKey,
            functionName,
            expression,
            enabled: schedule['enabled'] !== false,
            ...(schedule['input'] === undefined ? {} : { input: schedule['input'] }),
          });
        }
      }
    }
  }
  const queues: Record<string, QueueSpec> = {};
  const tables: Record<string, TableSpec> = {};
  for (const [logicalId, resource] of Object.entries(resources)) {
    const r = obj(resource);
    if (r['Type'] === 'AWS::DynamoDB::Table') {
      const props = obj(r['Properties']);
      const ttl = obj(props['TimeToLiveSpecification']);
      tables[logicalId] = {
        logicalId,
        tableName: String(props['TableName'] ?? logicalId),
        keySchema: (props['KeySchema'] ?? []) as TableSpec['keySchema'],
        attributeDefinitions: (props['AttributeDefinitions'] ?? []) as TableSpec['attributeDefinitions'],
        globalSecondaryIndexes: (props['GlobalSecondaryIndexes'] ?? []) as TableSpec['globalSecondaryIndexes'],
        ...(ttl['Enabled'] === true && typeof ttl['AttributeName'] === 'string' ? { ttlAttribute: ttl['AttributeName'] } : {}),
      };
      continue;
    }
    if (r['Type'] !== 'AWS::SQS::Queue') continue;
    const props = obj(r['Properties']);
    const redrive = obj(props['RedrivePolicy']);
    const dlqLogicalId = logicalIdOf(redrive['deadLetterTargetArn']);
    queues[logicalId] = {
      logicalId,
      visibilityTimeoutSeconds: Number(props['VisibilityTimeout'] ?? 30),
      retentionSeconds: Number(props['MessageRetentionPeriod'] ?? 345_600),
      ...(dlqLogicalId ? { redrive: { dlqLogicalId, maxReceiveCount: Number(redrive['maxReceiveCount'] ?? 5) } } : {}),
    };
  }
  return { service, stage, functionKeys: Object.keys(functions), sqsEventSources, schedules, queues, tables, eventRules };
}

/** Resolves serverless.yml for `stage` with osls (no credentials or network needed). */
export async function readServiceSpec(stage: string, cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): Promise<LocalServiceSpec> {
  const { stdout } = await run(process.execPath, [oslsBin(), 'print', '--stage', stage, '--format', 'json'], {
    cwd,
    env,
    maxBuffer: 16 * 1024 * 1024,
  });
  return toLocalServiceSpec(JSON.parse(stdout) as Json, stage);
}
