/**
 * The local stack: the whole suite on this machine with no AWS account. Embedded SQS,
 * the local Secrets Manager endpoint, sandbox Genesys and CRM servers (unless the
 * environment points elsewhere), the HTTP API through serverless-offline reading the
 * same serverless.yml, the SQS event source feeding the worker, and the schedules.
 * Everything listens on 127.0.0.1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { join, resolve } from 'node:path';
import type { SQSBatchResponse } from 'aws-lambda';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { startEmbeddedDynamoDb, type EmbeddedDynamoDb } from './dynamodb.ts';
import { captureEmf, lineSplitter } from './emf-capture.ts';
import { startFaultGate, type FaultGate, type GateMode } from './fault-gate.ts';
import { startEventSource, type EventSource } from './event-source.ts';
import { startLocalEventBus, type LocalEventBus } from './event-bus.ts';
import { handleLambdaApi, invokeLocalFunction, type LocalLambdaApi, type LocalMapping } from './lambda-invoke.ts';
import { guestSetupSeed } from '#lib/guests/setup.ts';
import { startGenesysSandboxV2 } from './sandbox/genesys/index.ts';
import { localCrmProvider, startLocalCrm } from './crm-sandbox.ts';
import type { CrmProviderName } from '#lib/crm/adapter.ts';
import {
  busyPorts,
  busyPortsMessage,
  deadLocalOverrides,
  deadOverridesMessage,
  listenOnLoopback,
  resolveStackPorts,
  STACK_LISTENERS,
  StackStartError,
  type StackPorts,
} from './ports.ts';
import { parseScheduleIntervals, startScheduler, type LocalScheduler } from './scheduler.ts';
import { readSecretsFile, startLocalSecretsManager, type LocalSecretsManager } from './secrets-manager.ts';
import { oslsBin, readServiceSpec, type LocalServiceSpec } from './serverless-config.ts';
import { localSqsClient, startEmbeddedSqs, type EmbeddedSqs } from './sqs.ts';
import { publishStack, runningStacks } from './stack-state.ts';

export { StackStartError } from './ports.ts';

/** The stage the local stack runs serverless.yml with. */
export const LOCAL_STAGE = 'local';

/**
 * Defaults for docs/api.md section 8 that `npm start` uses unless the environment sets them.
 * The CRM batch size and request rate apply to `rest` only: the other providers keep their
 * own documented defaults (lib/crm/adapter.ts).
 */
export const LOCAL_DEFAULTS: Readonly<Record<string, string>> = {
  CRM_BATCH_SIZE: '50',
  CRM_MAX_REQUESTS_PER_SECOND: '10',
  ROUTING_QUEUES: JSON.stringify({
    platinum: '0e5d6c2a-7f1b-4c1e-9a55-1b2f3c4d5e01',
    gold: '0e5d6c2a-7f1b-4c1e-9a55-1b2f3c4d5e02',
    standard: '0e5d6c2a-7f1b-4c1e-9a55-1b2f3c4d5e03',
  }),
  WEB_DEPLOYMENT_ID: '6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b',
  GENESYS_ORG_ID: '2d8e4f6a-1b3c-4d5e-8f70-a1b2c3d4e5f6',
  GUEST_ATTRIBUTE_ALLOWLIST: 'customerId,loyaltyTier,lastOrderDate,accountStatus,userId,userTier',
  // The guest set-up `npm run setup-genesys` would print; the sandbox Genesys starts with it (seed).
  GUEST_EXTERNAL_SOURCE_ID: '6a0f5c2e-3b1d-4c8e-9f7a-1b2c3d4e5f01',
  GUEST_CONTACT_SCHEMA_ID: '6a0f5c2e-3b1d-4c8e-9f7a-1b2c3d4e5f02',
};

/** Where a running local stack listens; also written to `.local/stack-<port>.json` and `.local/stack.json`. */
export interface StackEndpoints {
  apiUrl: string;
  lambdaEndpoint: string;
  controlUrl: string;
  sqsEndpoint: string;
  queueUrl: string;
  dlqUrl: string;
  /** The embedded DynamoDB-compatible server holding the state table. */
  dynamodbEndpoint: string;
  stateTableName: string;
  secretsEndpoint: string;
  genesysUrl: string;
  crmUrl: string;
  /** The CRM the worker writes to (`CRM_PROVIDER`); `crmUrl` is its sandbox when `sandboxCrm`. */
  crmProvider: CrmProviderName;
  sandboxGenesys: boolean;
  sandboxCrm: boolean;
  jwtIssuer: string;
  jwtAudience: string;
  widgetJwtAudience: string;
  secretIds: Record<'genesys' | 'crm' | 'webhook' | 'identity', string>;
  /** The file the functions' EMF metric lines are appended to (the local metrics report reads it). */
  metricsFile: string;
  /** The local event bus (EventBridge PutEvents) and the Genesys partner bus it serves; the events' DLQ. */
  eventBusUrl: string;
  eventBusName: string;
  eventsDlqUrl: string;
}

/**
 * Options of `startLocalStack`. Each port (`port`, `controlPort`, ... one per entry of
 * STACK_LISTENERS in local/ports.ts) defaults to its variable, then to PORT + its place.
 */
export interface LocalStackOptions extends Partial<StackPorts> {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Overrides the queue's visibility timeout (tests use a short one). */
  visibilityTimeoutSeconds?: number;
  /** Where serverless-offline's output goes: 'inherit' (console) or a file path. */
  offlineOutput?: 'inherit' | string;
  readyTimeoutMs?: number;
  /** Publish `.local/stack-<port>.json` and `.local/stack.json` for the operator scripts (default true; tests pass false). */
  writeStackFile?: boolean;
  /** Where the functions' EMF lines are kept (default `.local/metrics/emf.jsonl`; tests use their own). */
  metricsFile?: string;
  log?: (line: string) => void;
}

/** A running local stack. */
export interface LocalStack {
  endpoints: StackEndpoints;
  spec: LocalServiceSpec;
  secrets: LocalSecretsManager | undefined;
  sqs: EmbeddedSqs | undefined;
  dynamodb: EmbeddedDynamoDb;
  /** The gate between the functions and SQS: `stall` makes every SQS call of a function hang. */
  sqsGate: FaultGate;
  /** The local event bus (Genesys conversation events). */
  eventBus: LocalEventBus;
  fireSchedule(functionKey: string): Promise<unknown>;
  eventSourceStats(): Record<string, ReturnType<EventSource['stats']> & { paused: boolean }>;
  /** Pauses or resumes every SQS event source (the worker stops taking batches). */
  setEventSourcesPaused(paused: boolean): void;
  stop(): Promise<void>;
}

/**
 * A free loopback port for a stack beside other servers (tests). It is drawn below the
 * kernel's ephemeral range, so a server that other code binds to port 0 in the meantime
 * cannot take it before the stack listens on it.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const candidate = 20_000 + Math.floor(Math.random() * 12_000);
    const server = createServer();
    const bound = await new Promise<boolean>((done) => {
      server.once('error', () => done(false));
      server.listen(candidate, '127.0.0.1', () => done(true));
    });
    if (bound) {
      await new Promise<void>((done) => server.close(() => done()));
      return candidate;
    }
  }
  throw new Error('No free loopback port found between 20000 and 32000');
}

/** Distinct free loopback ports for every listener of a stack, for stacks beside others. */
export async function freeStackPorts(): Promise<StackPorts> {
  const ports: number[] = [];
  while (ports.length < STACK_LISTENERS.length) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  return Object.fromEntries(STACK_LISTENERS.map((listener, index) => [listener.name, ports[index]])) as StackPorts;
}

/**
 * Everything that would make the start fail half-way, checked before anything starts:
 * malformed or shared ports, override variables pointing at loopback servers nobody runs
 * (a stale `export`), and every busy port at once (naming a local stack that holds one).
 */
async function preflight(cwd: string, env: NodeJS.ProcessEnv, given: Partial<StackPorts>): Promise<StackPorts> {
  const ports = resolveStackPorts(env, given);
  const [dead, busy, stacks] = await Promise.all([deadLocalOverrides(env), busyPorts(ports, env), runningStacks(cwd)]);
  const problems: string[] = [];
  if (dead.length > 0) problems.push(deadOverridesMessage(dead));
  if (busy.length > 0) {
    const holder = (port: number): string | undefined => {
      const stack = stacks.find((state) =>
        Object.values(state).some((value) => typeof value === 'string' && /^https?:\/\//.test(value) && new URL(value).port === String(port)),
      );
      return stack ? `the local stack ${stack.apiUrl}${stack.pid ? ` (process ${stack.pid})` : ''}` : undefined;
    };
    problems.push(busyPortsMessage(busy.map((b) => ({ ...b, ...(holder(b.port) ? { heldBy: holder(b.port) as string } : {}) })), ports));
  }
  if (problems.length > 0) throw new StackStartError(problems.join('\n\n'));
  return ports;
}

/** Lines of serverless-offline's output that say nothing to someone running the stack. */
const NOISE = [
  // Powertools' Metrics, for an invocation that added no metric of its own (health checks).
  /^No application metrics to publish\b/,
];

/** Forwards whole lines to `to`, leaving out the noise. */
function withoutNoise(to: Writable): Writable {
  const splitter = lineSplitter((line) => {
    if (!NOISE.some((pattern) => pattern.test(line)) && !to.writableEnded) to.write(`${line}\n`);
  });
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      splitter.push(chunk);
      done();
    },
    final(done) {
      splitter.end();
      done();
    },
  });
}

const secretString = (secrets: Record<string, Record<string, unknown>>, id: string, key: string): string => {
  const value = secrets[id]?.[key];
  if (typeof value !== 'string' || value === '') {
    throw new Error(`The local secrets file must hold "${id}" with a "${key}" string (see local/secrets.sample.json)`);
  }
  return value;
};

async function waitForHealth(apiUrl: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`serverless-offline exited with code ${child.exitCode} before it was ready`);
    try {
      const response = await fetch(`${apiUrl}/health`);
      const body = (await response.json().catch(() => undefined)) as { status?: string } | undefined;
      if (response.status === 200 && body?.status === 'ok') return;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 250));
  }
  throw new Error(`The HTTP API did not answer GET /health within ${timeoutMs} ms`);
}

/** Starts every part of the local stack and resolves once `GET /health` answers 200. */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const env = { ...(options.env ?? process.env) };
  const log = options.log ?? (() => undefined);
  const closers: Array<() => Promise<void> | void> = [];
  const stopAll = async (): Promise<void> => {
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch {
        // keep closing the rest
      }
    }
  };

  try {
    const ports = await preflight(cwd, env, options);
    const crmProvider = localCrmProvider(env);
    // Only `rest` takes the local batch size and rate; the others keep their providers' defaults.
    const localDefaults = crmProvider === 'rest' ? LOCAL_DEFAULTS : Object.fromEntries(Object.entries(LOCAL_DEFAULTS).filter(([name]) => !name.startsWith('CRM_')));
    // Resolved with the local defaults too: the partner bus name needs GENESYS_ORG_ID.
    const spec = await readServiceSpec(LOCAL_STAGE, cwd, { ...localDefaults, ...env, LOCAL_OFFLINE_SCHEDULES: 'true' });
    // Genesys conversation events: the rule's bus (serverless.yml, EVENTBRIDGE_EVENT_BUS_NAME overrides it).
    const eventRule = spec.eventRules[0];
    const eventBusName = eventRule?.eventBusName ?? '';
    const eventBusUrl = `http://127.0.0.1:${ports.eventBusPort}`;
    const secretIds = {
      genesys: `${spec.service}/${LOCAL_STAGE}/genesys-credentials`,
      crm: `${spec.service}/${LOCAL_STAGE}/crm-credentials`,
      webhook: `${spec.service}/${LOCAL_STAGE}/webhook-signing-secret`,
      identity: `${spec.service}/${LOCAL_STAGE}/identity-salt`,
    };

    // Secrets Manager, from LOCAL_SECRETS_FILE.
    const secretsFile = resolve(cwd, env['LOCAL_SECRETS_FILE'] ?? 'local/secrets.sample.json');
    const secretValues = await readSecretsFile(secretsFile);
    const secrets = await startLocalSecretsManager(secretValues, ports.secretsPort);
    closers.push(() => secrets.close());

    // Sandboxes, unless the environment points at other servers.
    const genesysOverridden = Boolean(env['GENESYS_API_BASE_URL'] || env['GENESYS_LOGIN_BASE_URL']);
    let genesysUrl = env['GENESYS_API_BASE_URL'] ?? '';
    if (!genesysOverridden) {
      const sandbox = await startGenesysSandboxV2({
        port: ports.genesysPort,
        clients: [
          {
            clientId: secretString(secretValues, secretIds.genesys, 'clientId'),
            clientSecret: secretString(secretValues, secretIds.genesys, 'clientSecret'),
          },
        ],
        seed: guestSetupSeed({
          externalSourceId: env['GUEST_EXTERNAL_SOURCE_ID'] || (LOCAL_DEFAULTS['GUEST_EXTERNAL_SOURCE_ID'] as string),
          contactSchemaId: env['GUEST_CONTACT_SCHEMA_ID'] || (LOCAL_DEFAULTS['GUEST_CONTACT_SCHEMA_ID'] as string),
        }),
        eventSource: {
          organizationId: env['GENESYS_ORG_ID'] ?? LOCAL_DEFAULTS['GENESYS_ORG_ID'] ?? '',
          eventSourceSuffix: env['GENESYS_EVENT_SOURCE_SUFFIX'] ?? 'guest-sync-local',
        },
        // Its conversation events go to the local event bus (started below, once SQS runs).
        ...(eventBusName ? { putEvents: { url: eventBusUrl, eventBusName } } : {}),
      });
      closers.push(() => sandbox.close());
      genesysUrl = sandbox.url;
    }
    // The CRM of CRM_PROVIDER: its sandbox, unless the environment points its adapter elsewhere.
    const crm = await startLocalCrm({ port: ports.crmPort, env, secrets: secretValues, secretId: secretIds.crm });
    closers.push(() => crm.close());
    const crmUrl = crm.url;

    // SQS: the embedded server, unless CRM_SYNC_QUEUE_URL names another SQS-compatible queue.
    const queueSpec = spec.queues['CrmSyncQueue'];
    const dlqSpec = spec.queues[queueSpec?.redrive?.dlqLogicalId ?? 'CrmSyncDlq'];
    let sqs: EmbeddedSqs | undefined;
    let sqsEndpoint: string;
    let queueUrl: string;
    let dlqUrl: string;
    if (env['CRM_SYNC_QUEUE_URL']) {
      queueUrl = env['CRM_SYNC_QUEUE_URL'];
      dlqUrl = env['CRM_SYNC_DLQ_URL'] ?? '';
      sqsEndpoint = env['AWS_ENDPOINT_URL_SQS'] ?? new URL(queueUrl).origin;
    } else {
      sqs = await startEmbeddedSqs(
        {
          queueName: `${spec.service}-${LOCAL_STAGE}-crm-sync`,
          dlqName: `${spec.service}-${LOCAL_STAGE}-crm-sync-dlq`,
          visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? queueSpec?.visibilityTimeoutSeconds ?? 180,
          maxReceiveCount: queueSpec?.redrive?.maxReceiveCount ?? 5,
          dlqRetentionSeconds: dlqSpec?.retentionSeconds ?? 1_209_600,
        },
        ports.sqsPort,
      );
      closers.push(() => sqs?.close());
      sqsEndpoint = sqs.endpoint;
      queueUrl = sqs.queueUrl;
      dlqUrl = sqs.dlqUrl;
    }

    // The functions reach SQS through a gate the tests can stall (accept, never answer).
    const sqsGate = await startFaultGate(sqsEndpoint);
    closers.push(() => sqsGate.close());

    // DynamoDB: the embedded server with the tables serverless.yml declares (the state table).
    const stateTable = Object.values(spec.tables)[0];
    if (!stateTable) throw new Error('serverless.yml declares no DynamoDB table (the state table)');
    const dynamodb = await startEmbeddedDynamoDb(Object.values(spec.tables), ports.dynamodbPort);
    closers.push(() => dynamodb.close());

    // The HTTP API and the Lambda endpoint: serverless-offline on the same serverless.yml.
    const { port, lambdaPort } = ports;
    const apiUrl = `http://127.0.0.1:${port}`;
    const lambdaEndpoint = `http://127.0.0.1:${lambdaPort}`;
    const jwtIssuer = env['LOCAL_JWT_ISSUER'] ?? 'http://127.0.0.1/genesys-guest-sync-local';
    const jwtAudience = env['LOCAL_JWT_AUDIENCE'] ?? 'genesys-guest-sync';
    const widgetJwtAudience = env['LOCAL_WIDGET_JWT_AUDIENCE'] ?? 'web-messenger';
    const metricsFile = resolve(cwd, options.metricsFile ?? join('.local', 'metrics', 'emf.jsonl'));
    // Each event source mapping gets a UUID (LOCAL_MAPPING_ID_<function> for serverless.yml's
    // params.local); the functions' Lambda API calls go to the control endpoint, which serves
    // the mappings and forwards invocations to serverless-offline.
    const mappingIds = Object.fromEntries(spec.sqsEventSources.map((source) => [source.functionKey, randomUUID()]));
    const childEnv: NodeJS.ProcessEnv = {
      ...localDefaults,
      ...env,
      PORT: String(port),
      LOCAL_LAMBDA_PORT: String(lambdaPort),
      GENESYS_API_BASE_URL: env['GENESYS_API_BASE_URL'] ?? genesysUrl,
      GENESYS_LOGIN_BASE_URL: env['GENESYS_LOGIN_BASE_URL'] ?? genesysUrl,
      CRM_PROVIDER: crmProvider,
      ...crm.env,
      CRM_SYNC_QUEUE_URL: queueUrl,
      CRM_SYNC_DLQ_URL: dlqUrl,
      LOCAL_JWT_ISSUER: jwtIssuer,
      LOCAL_JWT_AUDIENCE: jwtAudience,
      LOCAL_WIDGET_JWT_AUDIENCE: widgetJwtAudience,
      AWS_ENDPOINT_URL_SQS: sqsGate.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
      AWS_ENDPOINT_URL_LAMBDA: `http://127.0.0.1:${ports.controlPort}`,
      ...Object.fromEntries(Object.entries(mappingIds).map(([key, id]) => [`LOCAL_MAPPING_ID_${key}`, id])),
      AWS_ACCESS_KEY_ID: env['AWS_ACCESS_KEY_ID'] ?? 'local',
      AWS_SECRET_ACCESS_KEY: env['AWS_SECRET_ACCESS_KEY'] ?? 'local',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      // As in Lambda: Powertools emits its ColdStart metric only for on-demand initialisation.
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      // The metrics report reads the functions' EMF lines from here (serverless.yml params.local).
      LOCAL_METRICS_FILE: metricsFile,
      SLS_TELEMETRY_DISABLED: '1',
      // Each stack builds into its own folder, so two stacks never clobber each other's bundles.
      LOCAL_BUILD_ID: `${port}`,
      SLS_NOTIFICATIONS_MODE: 'off',
      // The stack's scheduler fires the schedules; serverless-offline's own would run each twice.
      LOCAL_OFFLINE_SCHEDULES: 'false',
    };
    closers.push(() => rm(join(cwd, '.esbuild', `${LOCAL_STAGE}${port}`), { recursive: true, force: true }));
    const offlineOutput = options.offlineOutput ?? 'inherit';
    // Always piped: the output is forwarded (console or log file) and its EMF lines are kept.
    const child = spawn(process.execPath, [oslsBin(), 'offline', 'start', '--stage', LOCAL_STAGE], {
      cwd,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
    });
    // A crash of this process must not leave serverless-offline (its own process group) behind.
    const killOrphan = (): void => killTree(child, 'SIGKILL');
    process.once('exit', killOrphan);
    closers.push(() => void process.off('exit', killOrphan));
    let out: Writable = process.stdout;
    let err: Writable = process.stderr;
    if (offlineOutput !== 'inherit') {
      await mkdir(join(offlineOutput, '..'), { recursive: true });
      const file = createWriteStream(offlineOutput, { flags: 'a' });
      out = file;
      err = file;
      closers.push(() => new Promise<void>((done) => file.end(() => done())));
    }
    const emf = await captureEmf(
      [
        { from: child.stdout!, to: withoutNoise(out) },
        { from: child.stderr!, to: withoutNoise(err) },
      ],
      metricsFile,
    );
    closers.push(() => emf.close());
    closers.push(
      () =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          const timer = setTimeout(() => {
            killTree(child, 'SIGKILL');
          }, 5_000);
          child.once('exit', () => {
            clearTimeout(timer);
            done();
          });
          killTree(child, 'SIGTERM');
        }),
    );
    await waitForHealth(apiUrl, child, options.readyTimeoutMs ?? 60_000);

    // The worker's event source mappings, as declared in serverless.yml.
    const eventSources = new Map<string, EventSource>();
    const mappings: LocalMapping[] = [];
    const sqsClient = localSqsClient(sqsEndpoint);
    closers.push(() => sqsClient.destroy());
    const queueArn = (await sqsClient.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.['QueueArn'] ?? '';
    for (const source of spec.sqsEventSources) {
      const running = startEventSource({
        client: sqsClient,
        queueUrl,
        queueArn,
        batchSize: source.batchSize,
        maximumBatchingWindowSeconds: source.maximumBatchingWindowSeconds,
        maximumConcurrency: source.maximumConcurrency,
        reportBatchItemFailures: source.reportBatchItemFailures,
        uuid: mappingIds[source.functionKey] ?? randomUUID(),
        visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? queueSpec?.visibilityTimeoutSeconds ?? 180,
        consumer: async (event) => {
          // serverless-offline's Invoke API knows functions by their deployed name, not their key.
          const result = await invokeLocalFunction<SQSBatchResponse>(lambdaEndpoint, source.functionName, event);
          if (!result.ok) throw new Error(result.error);
          return result.payload;
        },
        onBatch: (outcome) => log(`[${source.functionKey}] batch of ${outcome.size}: ${outcome.deleted} done, ${outcome.failed} to retry${outcome.error ? ` (${outcome.error})` : ''}`),
      });
      eventSources.set(source.functionKey, running);
      mappings.push({ ...source, uuid: running.uuid, queueArn, source: running });
      closers.push(() => running.stop());
    }

    // The local event bus: the rules of serverless.yml, delivered through the Lambda invoke path.
    const eventBus = await startLocalEventBus({
      port: ports.eventBusPort,
      eventBusName,
      rules: spec.eventRules,
      invoke: (functionName, event) => invokeLocalFunction(lambdaEndpoint, functionName, event),
      sqs: sqsClient,
      baseDelayMs: Number(env['LOCAL_EVENTBRIDGE_RETRY_BASE_MS'] ?? 1_000),
      log,
    });
    closers.push(() => eventBus.close());

    // Schedules: on their rate, and on demand through the control endpoint.
    const scheduler: LocalScheduler = startScheduler(
      spec.schedules,
      async (schedule, event) => {
        // serverless-offline's Invoke API knows functions by their deployed name, not their key.
        const result = await invokeLocalFunction(lambdaEndpoint, schedule.functionName, event);
        if (!result.ok) throw new Error(result.error);
        return result.payload;
      },
      (schedule, error) => log(`[${schedule.functionKey}] scheduled run failed: ${error instanceof Error ? error.message : String(error)}`),
      { intervalsMs: parseScheduleIntervals(env['LOCAL_SCHEDULE_INTERVALS']) },
    );
    closers.push(() => scheduler.stop());

    const statsOf = (): Record<string, ReturnType<EventSource['stats']> & { paused: boolean }> =>
      Object.fromEntries([...eventSources].map(([key, source]) => [key, { ...source.stats(), paused: source.paused() }]));

    const endpoints: StackEndpoints = {
      apiUrl,
      lambdaEndpoint,
      controlUrl: '',
      sqsEndpoint,
      queueUrl,
      dlqUrl,
      dynamodbEndpoint: dynamodb.endpoint,
      stateTableName: stateTable.tableName,
      secretsEndpoint: secrets.endpoint,
      genesysUrl: env['GENESYS_API_BASE_URL'] ?? genesysUrl,
      crmUrl,
      crmProvider,
      sandboxGenesys: !genesysOverridden,
      sandboxCrm: crm.sandbox,
      jwtIssuer,
      jwtAudience,
      widgetJwtAudience,
      secretIds,
      metricsFile,
      eventBusUrl,
      eventBusName,
      eventsDlqUrl: eventBus.dlqUrls[eventRule?.dlq?.logicalId ?? ''] ?? '',
    };

    const control = await startControlServer(ports.controlPort, {
      lambdaApi: { lambdaEndpoint, mappings: () => mappings, log },
      endpoints: () => endpoints,
      fire: (key) => scheduler.fire(key),
      stats: () => statsOf(),
      setPaused: (paused) => eventSources.forEach((source) => (paused ? source.pause() : source.resume())),
      sqsGate,
    });
    closers.push(() => new Promise<void>((done) => {
      control.closeAllConnections();
      control.close(() => done());
    }));
    endpoints.controlUrl = `http://127.0.0.1:${(control.address() as AddressInfo).port}`;

    if (options.writeStackFile ?? true) closers.push(await publishStack(cwd, endpoints));

    return {
      endpoints,
      spec,
      secrets,
      sqs,
      dynamodb,
      sqsGate,
      eventBus,
      fireSchedule: (key) => scheduler.fire(key),
      eventSourceStats: statsOf,
      setEventSourcesPaused: (paused) => eventSources.forEach((source) => (paused ? source.pause() : source.resume())),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Signals serverless-offline and the function workers it started. */
function killTree(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined && process.platform !== 'win32') process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    child.kill(signal);
  }
}

/** The stack's own control endpoint: where things listen, schedules on demand, event source stats. */
async function startControlServer(
  port: number,
  handlers: {
    endpoints: () => StackEndpoints;
    fire: (key: string) => Promise<unknown>;
    stats: () => unknown;
    setPaused: (paused: boolean) => void;
    sqsGate: FaultGate;
    lambdaApi: LocalLambdaApi;
  },
): Promise<Server> {
  const server = createServer((req, res) => {
    // The Lambda API the functions call (event source mappings, invocations).
    if (handleLambdaApi(req, res, handlers.lambdaApi)) return;
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const fire = /^\/__local\/schedules\/([A-Za-z0-9_-]+)$/.exec(url.pathname);
    if (req.method === 'GET' && url.pathname === '/__local/stack') return send(200, handlers.endpoints());
    if (req.method === 'GET' && url.pathname === '/__local/event-sources') return send(200, handlers.stats());
    if (req.method === 'POST' && (url.pathname === '/__local/event-sources/pause' || url.pathname === '/__local/event-sources/resume')) {
      handlers.setPaused(url.pathname.endsWith('/pause'));
      return send(200, handlers.stats());
    }
    if (url.pathname === '/__local/faults/sqs') {
      // The functions' SQS: `{"mode":"stall"}` holds every call unanswered, `{"mode":"pass"}` ends it.
      if (req.method === 'GET') return send(200, { mode: handlers.sqsGate.mode(), stalled: handlers.sqsGate.stalled() });
      if (req.method === 'POST') {
        let raw = '';
        req.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
        req.on('end', () => {
          let mode: unknown;
          try {
            mode = (JSON.parse(raw || '{}') as { mode?: unknown }).mode;
          } catch {
            mode = undefined;
          }
          if (mode !== 'pass' && mode !== 'stall') return send(400, { error: 'mode must be "pass" or "stall"' });
          handlers.sqsGate.setMode(mode as GateMode);
          send(200, { mode });
        });
        return;
      }
    }
    if (req.method === 'POST' && fire?.[1]) {
      handlers.fire(fire[1]).then(
        (result) => send(200, { fired: fire[1], result }),
        (error: unknown) => send(404, { error: error instanceof Error ? error.message : String(error) }),
      );
      return;
    }
    send(404, { error: 'unknown control route' });
  });
  await listenOnLoopback(server, port, 'stack control');
  return server;
}
