/**
 * The deployable template: `osls package` for the example stage, read back as
 * CloudFormation. Checks what a security or platform reviewer would check.
 */
import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { oslsBin } from '#local/serverless-config.ts';

const run = promisify(execFile);
const OUT = '.local/template-test';

type Resource = { Type: string; Properties: Record<string, any> };
let resources: Record<string, Resource>;

const ofType = (type: string): Array<[string, Resource]> => Object.entries(resources).filter(([, r]) => r.Type === type);
const functions = (): Array<[string, Resource]> => ofType('AWS::Lambda::Function');
const statementsOf = (role: Resource): Array<Record<string, any>> =>
  (role.Properties['Policies'] ?? []).flatMap((p: any) => p.PolicyDocument.Statement);
const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

let conditionsOfExample: Record<string, unknown>;

/** The queues a function's asynchronous invocations go to on failure (its EventInvokeConfig). */
const onFailureQueuesOf = (all: Record<string, Resource>, fn: Resource): string[] =>
  Object.values(all)
    .filter((r) => r.Type === 'AWS::Lambda::EventInvokeConfig' && all[r.Properties['FunctionName']?.Ref] === fn)
    .map((r) => r.Properties['DestinationConfig']?.['OnFailure']?.['Destination']?.['Fn::GetAtt']?.[0])
    .filter((id): id is string => typeof id === 'string');

beforeAll(async () => {
  await run(process.execPath, [oslsBin(), 'package', '--stage', 'example', '--package', OUT], {
    env: { ...process.env, SLS_TELEMETRY_DISABLED: '1' },
  });
  const template = JSON.parse(await readFile(join(OUT, 'cloudformation-template-update-stack.json'), 'utf8'));
  resources = template.Resources;
  conditionsOfExample = template.Conditions;
}, 120_000);

/** Evaluates the Fn::Not / Fn::Equals conditions the template uses, on literal values. */
const evaluate = (condition: any): boolean => {
  if (condition['Fn::Not']) return !evaluate(condition['Fn::Not'][0]);
  if (condition['Fn::Equals']) return String(condition['Fn::Equals'][0]) === String(condition['Fn::Equals'][1]);
  throw new Error(`unexpected condition ${JSON.stringify(condition)}`);
};

/** A property under `Fn::If`, as CloudFormation resolves it with the template's conditions (undefined for AWS::NoValue). */
const resolveIf = (value: any, conditions: Record<string, unknown>): unknown => {
  if (!value || typeof value !== 'object' || !('Fn::If' in value)) return value;
  const [name, whenTrue, whenFalse] = value['Fn::If'];
  const chosen = evaluate(conditions[name]) ? whenTrue : whenFalse;
  return chosen?.Ref === 'AWS::NoValue' ? undefined : chosen;
};

/** `Fn::Select [5, Fn::Split [':', arn]]` on a literal ARN: the queue name. */
const queueNameOf = (value: any): unknown => {
  const [index, split] = value['Fn::Select'] ?? [];
  const [separator, source] = split?.['Fn::Split'] ?? [];
  return typeof source === 'string' ? source.split(separator)[index] : source;
};

describe('the CRM sync queue', () => {
  it('redrives to the DLQ after 5 receives', () => {
    // Assess
    const queue = resources['CrmSyncQueue'];
    expect(queue?.Properties['RedrivePolicy']).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': ['CrmSyncDlq', 'Arn'] },
      maxReceiveCount: 5,
    });
  });

  it('keeps dead letters for 14 days', () => {
    expect(resources['CrmSyncDlq']?.Properties['MessageRetentionPeriod']).toBe(1_209_600);
  });

  it('encrypts both queues at rest', () => {
    expect(resources['CrmSyncQueue']?.Properties['SqsManagedSseEnabled']).toBe(true);
    expect(resources['CrmSyncDlq']?.Properties['SqsManagedSseEnabled']).toBe(true);
  });
});

describe('every function', () => {
  it('runs nodejs22.x on arm64', () => {
    for (const [, fn] of functions()) {
      expect(fn.Properties['Runtime']).toBe('nodejs22.x');
      expect(fn.Properties['Architectures']).toEqual(['arm64']);
    }
  });

  it('maps its stack traces with source maps, but for health, which starts without reading one', () => {
    // Assess
    for (const [, fn] of functions()) {
      const nodeOptions = fn.Properties['Environment']?.Variables?.['NODE_OPTIONS'];
      if (String(fn.Properties['FunctionName']).endsWith('-health')) expect(nodeOptions ?? '').not.toContain('--enable-source-maps');
      else expect(nodeOptions).toBe('--enable-source-maps');
    }
  });

  it('has a role of its own', () => {
    // Assess
    const roles = functions().map(([, fn]) => fn.Properties['Role']['Fn::GetAtt'][0]);
    expect(new Set(roles).size).toBe(roles.length);
    for (const role of roles) expect(resources[role]?.Type).toBe('AWS::IAM::Role');
  });

  it('is granted no wildcard action and no unscoped resource', () => {
    for (const [, role] of ofType('AWS::IAM::Role')) {
      for (const statement of statementsOf(role)) {
        for (const action of asList(statement['Action'])) expect(action).not.toMatch(/\*/);
        // The one exception: cloudwatch:GetMetricData (the metrics report) has no resource
        // type in IAM, so '*' is the only resource it accepts; allowed alone in its statement.
        const getMetricDataOnly = asList(statement['Action']).length === 1 && asList(statement['Action'])[0] === 'cloudwatch:GetMetricData';
        for (const resource of asList(statement['Resource'])) if (!getMetricDataOnly) expect(resource).not.toBe('*');
      }
    }
  });

  it('reads only the secrets it names in its environment', () => {
    for (const [, fn] of functions()) {
      const role = resources[fn.Properties['Role']['Fn::GetAtt'][0]]!;
      const secretIds = Object.entries(fn.Properties['Environment']?.Variables ?? {})
        .filter(([name]) => name.endsWith('_SECRET_ID'))
        .map(([, id]) => id as string);
      const granted = statementsOf(role)
        .filter((s) => asList(s['Action']).includes('secretsmanager:GetSecretValue'))
        .flatMap((s) => asList(s['Resource']))
        .map((r: any) => r['Fn::Sub'] as string);
      expect(granted.sort()).toEqual(
        secretIds.map((id) => `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:${id}-??????`).sort(),
      );
    }
  });

  it('may send to SQS only if it is given the queue URL', () => {
    for (const [, fn] of functions()) {
      const role = resources[fn.Properties['Role']['Fn::GetAtt'][0]]!;
      const sends = statementsOf(role).some((s) => asList(s['Action']).includes('sqs:SendMessage'));
      // A function given the queue URL sends to it, unless all it may do on SQS is read the
      // queues' attributes (the metrics report).
      const sqsStatements = statementsOf(role).filter((s) => asList(s['Action']).some((a: string) => a.startsWith('sqs:')));
      const readsAttributesOnly = sqsStatements.length > 0 && sqsStatements.every((s) => asList(s['Action']).join() === 'sqs:GetQueueAttributes');
      // The queues it is given (the CRM sync worker is given the DLQ only, for dead letters);
      // it may send to those and no other.
      const variables = fn.Properties['Environment']?.Variables ?? {};
      // A function fed by a queue may also send to it (the CRM sync worker resends a job on its
      // last receive during a CRM outage, rather than let it reach the DLQ).
      const fedFrom = ofType('AWS::Lambda::EventSourceMapping')
        .filter(([, m]) => resources[m.Properties['FunctionName']['Fn::GetAtt']?.[0]] === fn)
        .map(([, m]) => m.Properties['EventSourceArn']['Fn::GetAtt']?.[0]);
      // And Lambda sends an event the function failed on to its on-failure destination with its role.
      const onFailure = onFailureQueuesOf(resources, fn);
      const givenQueues = [...['CRM_SYNC_QUEUE_URL', 'CRM_SYNC_DLQ_URL'].filter((name) => name in variables).map((name) => variables[name]?.Ref), ...fedFrom, ...onFailure];
      expect(sends).toBe(givenQueues.length > 0 && !readsAttributesOnly);
      const sendTargets = statementsOf(role)
        .filter((s) => asList(s['Action']).includes('sqs:SendMessage'))
        .flatMap((s) => asList(s['Resource']))
        .map((r: any) => r['Fn::GetAtt']?.[0]);
      for (const target of sendTargets) expect(givenQueues).toContain(target);
    }
  });

  it('keeps its logs for a bounded retention period', () => {
    const logGroups = ofType('AWS::Logs::LogGroup');
    expect(logGroups).toHaveLength(functions().length);
    for (const [, group] of logGroups) expect(group.Properties['RetentionInDays']).toBeGreaterThan(0);
  });

  it('is bundled on its own as one ES module with its source map, and nothing else', async () => {
    for (const [, fn] of functions()) {
      // Prepare
      const zip = fn.Properties['Code']['S3Key']['Fn::Join'] ? undefined : undefined;
      void zip;
      const [file, exported] = (fn.Properties['Handler'] as string).split(/\.(?=[^.]+$)/) as [string, string];
      const artifact = join(OUT, `${fn.Properties['FunctionName'].split('-').pop()}.zip`);

      // Act
      const { stdout } = await run('unzip', ['-Z1', artifact]);

      // Assess
      expect(stdout.trim().split('\n').sort()).toEqual([`${file}.mjs`, `${file}.mjs.map`]);
      expect(exported).toBe('handler');
    }
  });
});

describe('the HTTP API routes', () => {
  const route = (key: string): Resource => {
    const found = ofType('AWS::ApiGatewayV2::Route').find(([, r]) => r.Properties['RouteKey'] === key);
    if (!found) throw new Error(`no route ${key}`);
    return found[1];
  };

  it('leave GET /health open', () => {
    expect(route('GET /health').Properties['AuthorizationType']).toBeUndefined();
  });

  it('protect GET /guests/{guestId} with the machine authorizer and the read scope', () => {
    const props = route('GET /guests/{guestId}').Properties;
    expect(props['AuthorizationType']).toBe('JWT');
    expect(props['AuthorizerId']).toEqual({ Ref: 'HttpApiAuthorizerMachine' });
    expect(props['AuthorizationScopes']).toEqual(['guest-sync/read']);
  });

  it.each([
    ['POST /guests', 'guest-sync/write'],
    ['PATCH /guests/{guestId}', 'guest-sync/write'],
    ['GET /guests/{guestId}/metrics', 'guest-sync/read'],
    ['POST /prechat/enrich', 'guest-sync/write'],
  ])('protect %s with the machine authorizer and the %s scope', (key, scope) => {
    // Assess
    const props = route(key).Properties;
    expect(props['AuthorizationType']).toBe('JWT');
    expect(props['AuthorizerId']).toEqual({ Ref: 'HttpApiAuthorizerMachine' });
    expect(props['AuthorizationScopes']).toEqual([scope]);
  });

  it('protect GET /widget/config with the end-user JWT authorizer, without scopes', () => {
    // Assess
    const props = route('GET /widget/config').Properties;
    expect(props['AuthorizationType']).toBe('JWT');
    expect(props['AuthorizerId']).toEqual({ Ref: 'HttpApiAuthorizerEndUser' });
    expect(props['AuthorizationScopes']).toBeUndefined();
  });

  it('attach the end-user authorizer to GET /widget/config only, and no authorizer to the open routes', () => {
    // Prepare
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
    const endUserRoutes = routes.filter((p) => p['AuthorizerId']?.Ref === 'HttpApiAuthorizerEndUser').map((p) => p['RouteKey']);

    // Assess
    expect(endUserRoutes).toEqual(['GET /widget/config']);
    for (const open of ['GET /health', 'POST /webhooks/genesys']) {
      const props = routes.find((p) => p['RouteKey'] === open);
      expect(props).toBeDefined();
      expect(props?.['AuthorizationType']).toBeUndefined();
      expect(props?.['AuthorizerId']).toBeUndefined();
    }
  });

  it('give the widget configuration only the Genesys credentials, and no queue', () => {
    // Prepare
    const fn = functions().find(([, f]) => f.Properties['Handler'] === 'functions/http/widget-config.handler')?.[1];
    const role = resources[fn?.Properties['Role']['Fn::GetAtt'][0]]!;

    // Assess
    expect(Object.keys(fn?.Properties['Environment']['Variables']).filter((name) => name.endsWith('_SECRET_ID'))).toEqual(['GENESYS_CREDENTIALS_SECRET_ID']);
    expect(statementsOf(role).some((s) => asList(s['Action']).some((a: string) => a.startsWith('sqs:')))).toBe(false);
  });

  it('let the enqueuing guest and pre-chat functions send only to the CRM sync queue', () => {
    for (const handler of ['functions/http/guests/create.handler', 'functions/http/guests/update.handler', 'functions/http/prechat.handler']) {
      // Prepare
      const fn = functions().find(([, f]) => f.Properties['Handler'] === handler)?.[1];
      const role = resources[fn?.Properties['Role']['Fn::GetAtt'][0]]!;
      const sqs = statementsOf(role).filter((s) => asList(s['Action']).some((a: string) => a.startsWith('sqs:')));

      // Assess
      expect(sqs).toHaveLength(1);
      expect(asList(sqs[0]?.['Action'])).toEqual(['sqs:SendMessage']);
      expect(asList(sqs[0]?.['Resource'])).toEqual([{ 'Fn::GetAtt': ['CrmSyncQueue', 'Arn'] }]);
      expect(fn?.Properties['Environment']['Variables']['CRM_SYNC_QUEUE_URL']).toEqual({ Ref: 'CrmSyncQueue' });
    }
  });

  it('protect POST /sessions/{sessionId}/prefill with the machine authorizer and the write scope', () => {
    // Assess
    const props = route('POST /sessions/{sessionId}/prefill').Properties;
    expect(props['AuthorizationType']).toBe('JWT');
    expect(props['AuthorizerId']).toEqual({ Ref: 'HttpApiAuthorizerMachine' });
    expect(props['AuthorizationScopes']).toEqual(['guest-sync/write']);
  });

  it('leave POST /webhooks/genesys without an authorizer (its signature authenticates it)', () => {
    // Assess
    const props = route('POST /webhooks/genesys').Properties;
    expect(props['AuthorizationType']).toBeUndefined();
    expect(props['AuthorizerId']).toBeUndefined();
  });

  it.each([
    ['prefill', 'functions/http/prefill.handler', ['GENESYS_CREDENTIALS_SECRET_ID', 'IDENTITY_SALT_SECRET_ID']],
    ['webhook', 'functions/http/webhook.handler', ['WEBHOOK_SECRET_ID']],
  ])('let the %s function read only its secrets and send only to the CRM sync queue', (_name, handler, secretVariables) => {
    // Prepare
    const fn = functions().find(([, f]) => f.Properties['Handler'] === handler)?.[1];
    const role = resources[fn?.Properties['Role']['Fn::GetAtt'][0]]!;
    const variables = fn?.Properties['Environment']['Variables'] as Record<string, unknown>;
    const sqs = statementsOf(role).filter((s) => asList(s['Action']).some((a: string) => a.startsWith('sqs:')));

    // Assess
    expect(Object.keys(variables).filter((name) => name.endsWith('_SECRET_ID')).sort()).toEqual(secretVariables);
    expect(sqs).toHaveLength(1);
    expect(asList(sqs[0]?.['Action'])).toEqual(['sqs:SendMessage']);
    expect(asList(sqs[0]?.['Resource'])).toEqual([{ 'Fn::GetAtt': ['CrmSyncQueue', 'Arn'] }]);
    expect(variables['CRM_SYNC_QUEUE_URL']).toEqual({ Ref: 'CrmSyncQueue' });
  });

  it('take issuer and audience from the stage parameters', () => {
    const machine = resources['HttpApiAuthorizerMachine']!.Properties;
    expect(machine['JwtConfiguration']).toEqual({ Issuer: 'https://auth.example.com/', Audience: ['genesys-guest-sync'] });
    const endUser = resources['HttpApiAuthorizerEndUser']!.Properties;
    expect(endUser['JwtConfiguration']).toEqual({ Issuer: 'https://login.example.com/', Audience: ['web-messenger'] });
  });

  it('allow only the stage CORS origins', () => {
    const api = ofType('AWS::ApiGatewayV2::Api')[0]![1];
    expect(api.Properties['CorsConfiguration']['AllowOrigins']).toEqual(['https://www.example.com']);
  });

  it('take CORS origins from a stage parameter that no stage but local defaults, and that never lists *', async () => {
    // Prepare: the stage blocks of serverless.yml, as written (before osls resolves them)
    const source = await readFile('serverless.yml', 'utf8');
    const params = /^params:\n((?:[ #].*\n|\n)*)/m.exec(source)?.[1] ?? '';
    const stages = new Map<string, string>();
    for (const [, name, body] of params.matchAll(/^  ([A-Za-z0-9_-]+):\n((?:    .*\n|\s*\n)*)/gm)) stages.set(name!, body!);
    const originsOf = (stage: string): string[] | undefined => {
      const block = /^    corsAllowedOrigins:(.*)\n((?:      - .*\n)*)/m.exec(stages.get(stage) ?? '');
      if (!block) return undefined;
      return [...(block[1]?.trim() ? [block[1].trim()] : []), ...[...block[2]!.matchAll(/^      - (.*)$/gm)].map((m) => m[1]!.trim())];
    };

    // Assess
    expect([...stages.keys()]).toEqual(expect.arrayContaining(['default', 'example', 'local']));
    expect(source).toMatch(/^      allowedOrigins: \$\{param:corsAllowedOrigins\}$/m);
    expect(originsOf('default')).toBeUndefined();
    for (const stage of stages.keys()) {
      const origins = originsOf(stage);
      if (origins === undefined) continue;
      expect(origins.length).toBeGreaterThan(0);
      for (const origin of origins) expect(origin).not.toContain('*');
    }
    expect(originsOf('example')).toEqual(['https://www.example.com']);
  });
});

describe('the metrics report', () => {
  const BUCKET_OUT = '.local/template-test-report-bucket';
  let withBucket: Record<string, Resource>;
  let withBucketConditions: Record<string, unknown>;
  let conditions: Record<string, unknown>;

  beforeAll(async () => {
    // The same service packaged again with a report bucket (its own build folder).
    await run(process.execPath, [oslsBin(), 'package', '--stage', 'example', '--param=reportBucket=acme-reports', '--package', BUCKET_OUT], {
      env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', LOCAL_BUILD_ID: '-report-bucket' },
    });
    const template = JSON.parse(await readFile(join(BUCKET_OUT, 'cloudformation-template-update-stack.json'), 'utf8'));
    withBucket = template.Resources;
    withBucketConditions = template.Conditions;
    conditions = JSON.parse(await readFile(join(OUT, 'cloudformation-template-update-stack.json'), 'utf8')).Conditions;
    await rm('.esbuild/example-report-bucket', { recursive: true, force: true });
  }, 120_000);

  const reportFunction = (from: Record<string, Resource>) =>
    Object.entries(from).find(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties['Handler'] === 'functions/scheduled/metrics-report.handler');

  it('runs every hour on an EventBridge schedule (a stage parameter)', () => {
    // Prepare
    const [logicalId] = reportFunction(resources)!;
    const rules = ofType('AWS::Events::Rule').filter(([, r]) => r.Properties['Targets'].some((t: any) => t.Arn['Fn::GetAtt']?.[0] === logicalId));

    // Assess
    expect(rules).toHaveLength(1);
    expect(rules[0]![1].Properties).toMatchObject({ ScheduleExpression: 'rate(1 hour)', State: 'ENABLED' });
  });

  it('may read metrics and the two queues\' attributes, and nothing else', () => {
    // Prepare
    const [, fn] = reportFunction(resources)!;
    const role = resources[fn.Properties['Role']['Fn::GetAtt'][0]]!;
    const statements = statementsOf(role).filter((s) => !asList(s['Action']).every((a: string) => a.startsWith('logs:')));

    // Assess
    expect(statements).toEqual([
      { Effect: 'Allow', Action: ['cloudwatch:GetMetricData'], Resource: '*' },
      { Effect: 'Allow', Action: ['sqs:GetQueueAttributes'], Resource: [{ 'Fn::GetAtt': ['CrmSyncQueue', 'Arn'] }, { 'Fn::GetAtt': ['CrmSyncDlq', 'Arn'] }] },
    ]);
    expect(fn.Properties['Environment']['Variables']).toMatchObject({
      CRM_SYNC_QUEUE_URL: { Ref: 'CrmSyncQueue' },
      CRM_SYNC_DLQ_URL: { Ref: 'CrmSyncDlq' },
      REPORT_WINDOW_HOURS: '24',
      REPORT_BUCKET: '',
      REPORT_WEBHOOK_URL: '',
      REPORT_METRICS_FILE: '',
    });
  });

  it('gets no S3 right without a report bucket', () => {
    // Assess
    expect((resources['MetricsReportBucketPolicy'] as Resource & { Condition?: string }).Condition).toBe('MetricsReportBucketSet');
    expect(evaluate(conditions['MetricsReportBucketSet'])).toBe(false);
  });

  it('may put objects under the report prefix of the bucket only, when a bucket is set', () => {
    // Prepare
    const policy = withBucket['MetricsReportBucketPolicy'] as Resource & { Condition?: string };
    const [, fn] = reportFunction(withBucket)!;

    // Assess
    expect(policy.Condition).toBe('MetricsReportBucketSet');
    expect(evaluate(withBucketConditions['MetricsReportBucketSet'])).toBe(true);
    expect(policy.Properties['Roles']).toEqual([{ Ref: fn.Properties['Role']['Fn::GetAtt'][0] }]);
    expect(policy.Properties['PolicyDocument']['Statement']).toEqual([
      { Effect: 'Allow', Action: 's3:PutObject', Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::acme-reports/metrics-reports/*' } },
    ]);
    expect(fn.Properties['Environment']['Variables']).toMatchObject({ REPORT_BUCKET: 'acme-reports', REPORT_PREFIX: 'metrics-reports/' });
  });
});

describe('the CRM sync worker', () => {
  const worker = (): Resource => {
    const found = functions().find(([, f]) => f.Properties['Handler'] === 'functions/workers/crm-sync.handler');
    if (!found) throw new Error('no CRM sync worker');
    return found[1];
  };
  const workerLogicalId = (): string => functions().find(([, f]) => f === worker())![0];
  const mapping = (): Resource['Properties'] => {
    const found = ofType('AWS::Lambda::EventSourceMapping').filter(([, m]) => m.Properties['FunctionName']['Fn::GetAtt']?.[0] === workerLogicalId());
    expect(found).toHaveLength(1);
    return found[0]![1].Properties;
  };

  it('is fed by the CRM sync queue with partial batch failures', () => {
    // Assess
    expect(mapping()).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': ['CrmSyncQueue', 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      Enabled: true,
    });
  });

  it('takes batches of whole CRM chunks, gathered within a batching window', () => {
    // Prepare
    const { BatchSize, MaximumBatchingWindowInSeconds } = mapping();
    // Empty: the provider's batch maximum (rest, the default provider: 50).
    const crmBatchSize = Number(worker().Properties['Environment']['Variables']['CRM_BATCH_SIZE'] || '50');

    // Assess: more than 10 records needs a window (SQS rule); whole chunks of CRM_BATCH_SIZE
    expect(BatchSize).toBeGreaterThanOrEqual(crmBatchSize);
    expect(BatchSize % crmBatchSize).toBe(0);
    expect(MaximumBatchingWindowInSeconds).toBeGreaterThanOrEqual(1);
    expect(MaximumBatchingWindowInSeconds).toBeLessThanOrEqual(300);
  });

  it('caps its concurrency at the event source, so a throttled CRM slows the queue instead of throttling the function', () => {
    // Assess: 2 is the least SQS event sources allow
    expect(mapping()['ScalingConfig']['MaximumConcurrency']).toBeGreaterThanOrEqual(2);
    expect(mapping()['ScalingConfig']['MaximumConcurrency']).toBeLessThanOrEqual(10);
  });

  it('keeps the queue visibility timeout at least six times the worker timeout', () => {
    // Assess
    const timeout = worker().Properties['Timeout'] as number;
    expect(timeout).toBeGreaterThan(0);
    expect(resources['CrmSyncQueue']?.Properties['VisibilityTimeout']).toBeGreaterThanOrEqual(6 * timeout);
  });

  it('keeps visibility at least six times the timeout in the local stage too', async () => {
    // Prepare
    const { stdout } = await run(process.execPath, [oslsBin(), 'print', '--stage', 'local', '--format', 'json'], {
      env: { ...process.env, SLS_TELEMETRY_DISABLED: '1' },
      maxBuffer: 16 * 1024 * 1024,
    });
    const local = JSON.parse(stdout);

    // Assess
    const timeout = local.functions.crmSync.timeout as number;
    expect(local.resources.Resources.CrmSyncQueue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * timeout);
  }, 60_000);

  it('dead-letters to the stack DLQ and knows the queue maxReceiveCount', () => {
    // Assess
    const variables = worker().Properties['Environment']['Variables'];
    expect(variables['CRM_SYNC_DLQ_URL']).toEqual({ Ref: 'CrmSyncDlq' });
    expect(Number(variables['CRM_SYNC_MAX_RECEIVE_COUNT'])).toBe(resources['CrmSyncQueue']?.Properties['RedrivePolicy']['maxReceiveCount']);
    expect(variables).not.toHaveProperty('CRM_SYNC_QUEUE_URL');
  });

  it('may consume the queue, hold back and resend on it, send to the DLQ, read the CRM secret, read and write its state items, wake the control function, and nothing else', () => {
    // Prepare
    const role = resources[worker().Properties['Role']['Fn::GetAtt'][0]]!;
    const grants = statementsOf(role)
      .filter((s) => !asList(s['Action']).every((a: string) => a.startsWith('logs:')))
      .flatMap((s) => asList(s['Action']).flatMap((action: string) => asList(s['Resource']).map((resource: unknown) => `${action} ${JSON.stringify(resource)}`)));
    const queue = JSON.stringify({ 'Fn::GetAtt': ['CrmSyncQueue', 'Arn'] });
    const dlq = JSON.stringify({ 'Fn::GetAtt': ['CrmSyncDlq', 'Arn'] });
    const crmSecret = JSON.stringify({
      'Fn::Sub': 'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:genesys-guest-sync/example/crm-credentials-??????',
    });

    const table = JSON.stringify({ 'Fn::GetAtt': ['StateTable', 'Arn'] });
    const control = JSON.stringify({ 'Fn::Sub': 'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:genesys-guest-sync-example-crmSyncControl' });

    // Assess
    expect([...new Set(grants)].sort()).toEqual(
      [
        `sqs:ReceiveMessage ${queue}`,
        `sqs:DeleteMessage ${queue}`,
        `sqs:GetQueueAttributes ${queue}`,
        `sqs:ChangeMessageVisibility ${queue}`,
        `sqs:SendMessage ${queue}`,
        `sqs:GetQueueUrl ${queue}`,
        `sqs:SendMessage ${dlq}`,
        `secretsmanager:GetSecretValue ${crmSecret}`,
        `dynamodb:GetItem ${table}`,
        `dynamodb:BatchGetItem ${table}`,
        `dynamodb:PutItem ${table}`,
        `dynamodb:UpdateItem ${table}`,
        `dynamodb:DeleteItem ${table}`,
        `lambda:InvokeFunction ${control}`,
      ].sort(),
    );
    // The state table only under its own keys (the pause, the record versions, the finished chunks).
    for (const statement of statementsOf(role).filter((st) => asList(st['Action']).some((a: string) => a.startsWith('dynamodb:')))) {
      for (const prefix of statement['Condition']['ForAllValues:StringLike']['dynamodb:LeadingKeys']) expect(['pause#*', 'version#*', 'chunk#*']).toContain(prefix);
    }
  });

  it('may invoke exactly the CRM sync control function, which exists under that name', () => {
    // Prepare
    const role = resources[worker().Properties['Role']['Fn::GetAtt'][0]]!;
    const invokes = statementsOf(role).filter((st) => asList(st['Action']).includes('lambda:InvokeFunction'));
    const variables = worker().Properties['Environment']['Variables'];

    // Assess
    expect(invokes.flatMap((st) => asList(st['Action']))).toEqual(['lambda:InvokeFunction']);
    expect(variables['CRM_SYNC_CONTROL_FUNCTION']).toBe('genesys-guest-sync-example-crmSyncControl');
    expect(functions().some(([, f]) => f.Properties['FunctionName'] === variables['CRM_SYNC_CONTROL_FUNCTION'])).toBe(true);
  });
});

describe('the CRM sync control function', () => {
  const control = (): [string, Resource] => {
    const found = functions().find(([, f]) => f.Properties['Handler'] === 'functions/scheduled/crm-sync-control.handler');
    if (!found) throw new Error('no CRM sync control function');
    return found;
  };
  const workerMappingId = (): string => {
    const found = ofType('AWS::Lambda::EventSourceMapping').filter(([, m]) => m.Properties['EventSourceArn']['Fn::GetAtt']?.[0] === 'CrmSyncQueue');
    expect(found).toHaveLength(1);
    return found[0]![0];
  };

  it("runs every minute on an EventBridge schedule", () => {
    // Prepare
    const [logicalId] = control();
    const rules = ofType('AWS::Events::Rule').filter(([, rule]) => (rule.Properties['Targets'] ?? []).some((t: any) => t.Arn?.['Fn::GetAtt']?.[0] === logicalId));

    // Assess
    expect(rules.map(([, rule]) => [rule.Properties['ScheduleExpression'], rule.Properties['State']])).toEqual([['rate(1 minute)', 'ENABLED']]);
  });

  it("is given the worker's event source mapping id and the probe interval", () => {
    // Assess
    expect(control()[1].Properties['Environment']['Variables']).toMatchObject({
      CRM_SYNC_EVENT_SOURCE_MAPPING_ID: { Ref: workerMappingId() },
      CRM_SYNC_PROBE_INTERVAL_SECONDS: '60',
      STATE_TABLE_NAME: expect.any(String),
    });
  });

  it('may read and switch that one mapping, read, write and delete the pause, read the CRM secret, and nothing else', () => {
    // Prepare
    const role = resources[control()[1].Properties['Role']['Fn::GetAtt'][0]]!;
    const statements = statementsOf(role).filter((st) => !asList(st['Action']).every((a: string) => a.startsWith('logs:')));
    const grants = statements.flatMap((st) => asList(st['Action']).map((action: string) => action)).sort();
    const lambda = statements.filter((st) => asList(st['Action']).some((a: string) => a.startsWith('lambda:')));
    const dynamo = statements.filter((st) => asList(st['Action']).some((a: string) => a.startsWith('dynamodb:')));

    // Assess
    expect(grants).toEqual(
      ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'lambda:GetEventSourceMapping', 'lambda:UpdateEventSourceMapping', 'secretsmanager:GetSecretValue'].sort(),
    );
    expect(lambda.map((st) => st['Resource'])).toEqual([
      {
        'Fn::Join': [':', ['arn', { Ref: 'AWS::Partition' }, 'lambda', { Ref: 'AWS::Region' }, { Ref: 'AWS::AccountId' }, 'event-source-mapping', { Ref: workerMappingId() }]],
      },
    ]);
    expect(dynamo.map((st) => [st['Resource'], st['Condition']])).toEqual([
      [{ 'Fn::GetAtt': ['StateTable', 'Arn'] }, { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['pause#*'] } }],
    ]);
  });
});

describe('the alarms', () => {
  const alarms = (): Array<[string, Resource]> => ofType('AWS::CloudWatch::Alarm');
  const alarm = (name: string): Resource['Properties'] => {
    const found = alarms().find(([, a]) => a.Properties['AlarmName'] === `genesys-guest-sync-example-${name}`);
    if (!found) throw new Error(`no alarm ${name}`);
    return found[1].Properties;
  };
  const functionLogicalId = (handler: string): string => functions().find(([, f]) => f.Properties['Handler'] === handler)![0];
  const metricsOf = (props: Resource['Properties']): Array<Record<string, any>> =>
    (props['Metrics'] as Array<Record<string, any>>).filter((m) => m['MetricStat']).map((m) => m['MetricStat']);

  it('fire when a CRM sync job is dead-lettered', () => {
    // Assess
    expect(alarm('crm-sync-dlq-not-empty')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::Select': [5, { 'Fn::Split': [':', { 'Fn::GetAtt': ['CrmSyncDlq', 'Arn'] }] }] } }],
      Statistic: 'Maximum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('fire when the oldest CRM sync job waits longer than a stage parameter, before the receives run out', () => {
    // Prepare
    const props = alarm('crm-sync-queue-age');
    const queue = resources['CrmSyncQueue']!.Properties;
    const receiveBudgetSeconds = queue['VisibilityTimeout'] * queue['RedrivePolicy']['maxReceiveCount'];

    // Assess
    expect(props).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::Select': [5, { 'Fn::Split': [':', { 'Fn::GetAtt': ['CrmSyncQueue', 'Arn'] }] }] } }],
      Statistic: 'Maximum',
      Threshold: 600,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(props['Threshold'] + props['Period'] * props['EvaluationPeriods']).toBeLessThan(receiveBudgetSeconds);
  });

  it('fire when the CRM sync worker itself fails', () => {
    // Assess
    expect(alarm('crm-sync-worker-errors')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionLogicalId('functions/workers/crm-sync.handler') } }],
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('fire on the share of HTTP API requests answered 5xx, not on a lone failure', () => {
    // Prepare
    const props = alarm('api-5xx-rate');
    const [rate] = (props['Metrics'] as Array<Record<string, any>>).filter((m) => m['ReturnData'] === true);
    const byId = Object.fromEntries((props['Metrics'] as Array<Record<string, any>>).map((m) => [m['Id'], m['MetricStat']?.['Metric']]));

    // Assess: HTTP APIs publish `5xx` and `Count` under the ApiId dimension
    expect(rate?.['Expression']).toBe('IF(requests >= 20, 100 * errors / requests, 0)');
    expect(byId['errors']).toEqual({ Namespace: 'AWS/ApiGateway', MetricName: '5xx', Dimensions: [{ Name: 'ApiId', Value: { Ref: 'HttpApi' } }] });
    expect(byId['requests']).toEqual({ Namespace: 'AWS/ApiGateway', MetricName: 'Count', Dimensions: [{ Name: 'ApiId', Value: { Ref: 'HttpApi' } }] });
    for (const stat of metricsOf(props)) expect(stat['Stat']).toBe('Sum');
    expect(props).toMatchObject({ Threshold: 5, ComparisonOperator: 'GreaterThanThreshold' });
    expect(resources['HttpApi']?.Type).toBe('AWS::ApiGatewayV2::Api');
  });

  it('fire on throttles of every function whose concurrency can be capped, the worker included', () => {
    // Prepare
    const props = alarm('throttles');
    const watched = metricsOf(props).map((stat) => {
      expect(stat['Metric']).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Throttles' });
      return stat['Metric']['Dimensions'][0]['Value']['Ref'];
    });
    const capped = functions()
      .filter(([, f]) => f.Properties['ReservedConcurrentExecutions'] !== undefined)
      .map(([id]) => id);

    // Assess
    expect(capped.length).toBeGreaterThan(0);
    expect(watched).toEqual(expect.arrayContaining([...capped, functionLogicalId('functions/workers/crm-sync.handler')]));
    expect((props['Metrics'] as Array<Record<string, any>>).find((m) => m['ReturnData'])?.['Expression']).toBe(`SUM([${(props['Metrics'] as Array<Record<string, any>>).filter((m) => m['MetricStat']).map((m) => m['Id']).join(', ')}])`);
  });

  it('are named with the stage, treat missing data as fine and look at whole minutes', () => {
    // Assess
    expect(alarms().length).toBeGreaterThanOrEqual(5);
    for (const [, { Properties: props }] of alarms()) {
      expect(props['AlarmName']).toMatch(/^genesys-guest-sync-example-/);
      expect(props['TreatMissingData']).toBe('notBreaching');
      expect(props['EvaluationPeriods']).toBeGreaterThanOrEqual(1);
      const periods = props['Metrics'] ? metricsOf(props).map((stat) => stat['Period']) : [props['Period']];
      for (const period of periods) expect(period % 60).toBe(0);
    }
  });

  it('notify nobody while alarmTopicArn is empty', () => {
    // Assess
    for (const [, { Properties: props }] of alarms()) {
      expect(resolveIf(props['AlarmActions'], conditionsOfExample)).toBeUndefined();
      expect(resolveIf(props['OKActions'], conditionsOfExample)).toBeUndefined();
    }
  });
});

describe('the HTTP API throttling', () => {
  const stage = (): Resource['Properties'] => ofType('AWS::ApiGatewayV2::Stage')[0]![1].Properties;

  it('limits every route by default, from stage parameters', () => {
    // Assess
    expect(stage()['DefaultRouteSettings']).toMatchObject({ ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 });
  });

  it('limits the unauthenticated webhook route tighter than the others', () => {
    // Prepare
    const webhook = stage()['RouteSettings']['POST /webhooks/genesys'];
    const defaults = stage()['DefaultRouteSettings'];

    // Assess
    expect(webhook).toEqual({ ThrottlingRateLimit: 25, ThrottlingBurstLimit: 50 });
    expect(webhook.ThrottlingRateLimit).toBeLessThan(defaults.ThrottlingRateLimit);
    expect(webhook.ThrottlingBurstLimit).toBeLessThan(defaults.ThrottlingBurstLimit);
    expect(ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties['RouteKey'])).toContain('POST /webhooks/genesys');
  });

  it('reserves no concurrency unless the stage asks (a reservation can fail a deploy on a small account)', () => {
    // Assess
    for (const [, fn] of functions()) expect(resolveIf(fn.Properties['ReservedConcurrentExecutions'], conditionsOfExample)).toBeUndefined();
  });
});

describe('a stage with its own queue, a customer-managed key, an alarm topic and reservations', () => {
  const OVERRIDE_OUT = '.local/template-test-overrides';
  const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/shared-crm-sync';
  const QUEUE_ARN = 'arn:aws:sqs:eu-west-1:123456789012:shared-crm-sync';
  const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:genesys-guest-sync-alarms';
  let overridden: Record<string, Resource & { Condition?: string }>;
  let overriddenConditions: Record<string, unknown>;

  beforeAll(async () => {
    // Prepare: the example stage packaged again with these parameters (its own build folder)
    const params = {
      crmSyncQueueUrl: QUEUE_URL,
      crmSyncQueueArn: QUEUE_ARN,
      kmsKeyArn: KEY_ARN,
      alarmTopicArn: TOPIC_ARN,
      webhookReservedConcurrency: '50',
      prefillReservedConcurrency: '40',
      crmSyncReservedConcurrency: '2',
    };
    await run(
      process.execPath,
      [oslsBin(), 'package', '--stage', 'example', ...Object.entries(params).map(([name, value]) => `--param=${name}=${value}`), '--package', OVERRIDE_OUT],
      { env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', LOCAL_BUILD_ID: '-overrides' } },
    );
    const template = JSON.parse(await readFile(join(OVERRIDE_OUT, 'cloudformation-template-update-stack.json'), 'utf8'));
    overridden = template.Resources;
    overriddenConditions = template.Conditions;
    await rm('.esbuild/example-overrides', { recursive: true, force: true });
  }, 120_000);

  const fns = (): Array<[string, Resource]> => Object.entries(overridden).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
  const roleOf = (fn: Resource): Resource => overridden[fn.Properties['Role']['Fn::GetAtt'][0]]!;
  const fnOf = (handler: string): Resource => fns().find(([, f]) => f.Properties['Handler'] === handler)![1];

  it('grants sqs:SendMessage on the overriding queue to every function given its URL, and nothing on the stack\'s own queue', () => {
    // Prepare
    const senders = fns().filter(([, fn]) => fn.Properties['Environment']?.Variables?.['CRM_SYNC_QUEUE_URL'] === QUEUE_URL && fn.Properties['Handler'] !== 'functions/scheduled/metrics-report.handler');

    // Assess
    expect(senders.length).toBeGreaterThanOrEqual(5);
    for (const [, fn] of senders) {
      const onFailure = onFailureQueuesOf(overridden, fn);
      const sends = statementsOf(roleOf(fn))
        .filter((s) => asList(s['Action']).includes('sqs:SendMessage'))
        .flatMap((s) => asList(s['Resource']))
        .filter((r: any) => !onFailure.includes(r['Fn::GetAtt']?.[0]));
      expect(sends).toEqual([QUEUE_ARN]);
    }
    for (const [, role] of Object.entries(overridden).filter(([, r]) => r.Type === 'AWS::IAM::Role')) {
      expect(JSON.stringify(statementsOf(role))).not.toContain('"CrmSyncQueue"');
    }
  });

  it('feeds the worker from the overriding queue, lets the report read it, and watches its age', () => {
    // Prepare
    const worker = fnOf('functions/workers/crm-sync.handler');
    const workerId = fns().find(([, f]) => f === worker)![0];
    const mapping = Object.values(overridden).find((r) => r.Type === 'AWS::Lambda::EventSourceMapping' && r.Properties['FunctionName']['Fn::GetAtt']?.[0] === workerId)!;
    const workerGrants = statementsOf(roleOf(worker)).filter((s) => asList(s['Action']).includes('sqs:ReceiveMessage'));
    const reportReads = statementsOf(roleOf(fnOf('functions/scheduled/metrics-report.handler'))).filter((s) => asList(s['Action']).includes('sqs:GetQueueAttributes'));
    const age = Object.values(overridden).find((r) => r.Properties?.['AlarmName'] === 'genesys-guest-sync-example-crm-sync-queue-age')!;

    // Assess
    expect(mapping.Properties['EventSourceArn']).toBe(QUEUE_ARN);
    expect(workerGrants.flatMap((s) => asList(s['Resource']))).toEqual([QUEUE_ARN]);
    expect(reportReads.flatMap((s) => asList(s['Resource']))).toContain(QUEUE_ARN);
    expect(queueNameOf(age.Properties['Dimensions'][0]['Value'])).toBe('shared-crm-sync');
  });

  it("keeps the CRM sync control function on the worker's mapping, which osls names after the shared queue", () => {
    // Prepare
    const mappings = Object.entries(overridden).filter(([, r]) => r.Type === 'AWS::Lambda::EventSourceMapping');
    const control = Object.values(overridden).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties['Handler'] === 'functions/scheduled/crm-sync-control.handler')!;
    const role = overridden[control.Properties['Role']['Fn::GetAtt'][0]]!;
    const switches = statementsOf(role).find((st) => asList(st['Action']).includes('lambda:UpdateEventSourceMapping'))!;

    // Assess
    expect(mappings).toHaveLength(1);
    const [mappingId] = mappings[0]!;
    expect(control.Properties['Environment']['Variables']['CRM_SYNC_EVENT_SOURCE_MAPPING_ID']).toEqual({ Ref: mappingId });
    expect(switches['Resource']['Fn::Join'][1].at(-1)).toEqual({ Ref: mappingId });
  });

  it('lets every function that reads a secret decrypt with the key, through Secrets Manager only', () => {
    // Prepare
    const policy = overridden['SecretsKmsDecryptPolicy']!;
    const readers = fns()
      .map(([, fn]) => fn.Properties['Role']['Fn::GetAtt'][0] as string)
      .filter((role) => statementsOf(overridden[role]!).some((s) => asList(s['Action']).includes('secretsmanager:GetSecretValue')));

    // Assess
    expect(policy.Condition).toBe('KmsKeySet');
    expect(evaluate(overriddenConditions['KmsKeySet'])).toBe(true);
    expect(policy.Properties['Roles'].map((r: { Ref: string }) => r.Ref).sort()).toEqual(readers.sort());
    expect(policy.Properties['PolicyDocument']['Statement']).toEqual([
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: KEY_ARN,
        Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'secretsmanager.${AWS::Region}.amazonaws.com' } } },
      },
    ]);
  });

  it('grants no KMS right at all without a key', () => {
    // Assess
    expect((resources['SecretsKmsDecryptPolicy'] as Resource & { Condition?: string }).Condition).toBe('KmsKeySet');
    expect(evaluate(conditionsOfExample['KmsKeySet'])).toBe(false);
    for (const [, role] of ofType('AWS::IAM::Role')) expect(JSON.stringify(statementsOf(role))).not.toContain('kms:');
  });

  it('sends every alarm\'s ALARM and OK transitions to the topic', () => {
    // Prepare
    const alarms = Object.values(overridden).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');

    // Assess
    expect(alarms.length).toBeGreaterThanOrEqual(5);
    for (const alarm of alarms) {
      expect(resolveIf(alarm.Properties['AlarmActions'], overriddenConditions)).toEqual([TOPIC_ARN]);
      expect(resolveIf(alarm.Properties['OKActions'], overriddenConditions)).toEqual([TOPIC_ARN]);
    }
  });

  it('reserves the concurrency the stage sets for the webhook, prefill and the worker', () => {
    // Prepare
    const reserved = (handler: string): unknown => resolveIf(fnOf(handler).Properties['ReservedConcurrentExecutions'], overriddenConditions);

    // Assess
    expect(Number(reserved('functions/http/webhook.handler'))).toBe(50);
    expect(Number(reserved('functions/http/prefill.handler'))).toBe(40);
    expect(Number(reserved('functions/workers/crm-sync.handler'))).toBe(2);
    expect(reserved('functions/http/guests/get.handler')).toBeUndefined();
  });
});

describe('the state table', () => {
  const table = () => resources['StateTable'];
  const roleOf = (functionLogicalId: string): Resource => {
    const roleId = resources[functionLogicalId]?.Properties['Role']['Fn::GetAtt'][0] as string;
    return resources[roleId] as Resource;
  };
  const dynamoStatements = (functionLogicalId: string) =>
    statementsOf(roleOf(functionLogicalId)).filter((s) => asList(s['Action']).some((a: string) => a.startsWith('dynamodb:')));

  it('is one on-demand table keyed by pk, with TTL, point-in-time recovery and encryption on, kept on stack deletion', () => {
    expect(ofType('AWS::DynamoDB::Table')).toHaveLength(1);
    expect(table()?.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    expect((table() as unknown as { DeletionPolicy: string }).DeletionPolicy).toBe('Retain');
  });

  it('indexes the outbox by due time for the sweep', () => {
    expect(table()?.Properties['GlobalSecondaryIndexes']).toEqual([
      {
        IndexName: 'outbox',
        KeySchema: [
          { AttributeName: 'outboxPk', KeyType: 'HASH' },
          { AttributeName: 'outboxDue', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
  });

  const outboxPut = {
    Action: ['dynamodb:PutItem'],
    Resource: { 'Fn::GetAtt': ['StateTable', 'Arn'] },
    Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['outbox#*'] } },
  };
  const keysOnly = (prefixes: string[]) => ({
    Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
    Resource: { 'Fn::GetAtt': ['StateTable', 'Arn'] },
    Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': prefixes } },
  });

  it.each(['WebhookLambdaFunction', 'CreateGuestLambdaFunction', 'PrechatEnrichLambdaFunction'])(
    '%s may only put items under outbox# (nothing else, no read)',
    (fn) => {
      const statements = dynamoStatements(fn);
      expect(statements).toHaveLength(1);
      expect(statements[0]).toMatchObject(outboxPut);
    },
  );

  it.each([
    ['PrefillLambdaFunction', [outboxPut, keysOnly(['session#*', 'gsref#*'])]],
    ['WidgetConfigLambdaFunction', [keysOnly(['session#*', 'gsref#*'])]],
    ['UpdateGuestLambdaFunction', [outboxPut, keysOnly(['lease#guest#*'])]],
  ])('%s may put outbox jobs and read and write only its own kind of item (prepared sessions, guest leases)', (fn, expected) => {
    const statements = dynamoStatements(fn);
    expect(statements).toHaveLength(expected.length);
    expected.forEach((statement, index) => expect(statements[index]).toMatchObject(statement));
  });

  it('the outbox sweep runs every minute, queries the outbox index, and writes only outbox# items', () => {
    const rule = ofType('AWS::Events::Rule').find(([, r]) =>
      JSON.stringify(r.Properties['Targets']).includes('OutboxSweepLambdaFunction'),
    );
    expect(rule?.[1].Properties['ScheduleExpression']).toBe('rate(1 minute)');
    const statements = dynamoStatements('OutboxSweepLambdaFunction');
    expect(statements.find((s) => asList(s['Action']).includes('dynamodb:Query'))?.['Resource']).toEqual({ 'Fn::Sub': '${StateTable.Arn}/index/outbox' });
    const writes = statements.find((s) => asList(s['Action']).includes('dynamodb:DeleteItem'));
    expect(writes?.['Condition']).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['outbox#*'] } });
  });

  it('alarms when the sweep keeps deferring jobs (SQS still refusing) for 3 minutes', () => {
    const alarm = resources['OutboxDeferredAlarm'];
    expect(alarm?.Properties).toMatchObject({
      Namespace: 'GenesysGuestSync',
      MetricName: 'OutboxDeferred',
      Dimensions: expect.arrayContaining([{ Name: 'function', Value: 'genesys-guest-sync-example-outboxSweep' }]),
      Period: 60,
      EvaluationPeriods: 3,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(resources['OutboxSweepLambdaFunction']?.Properties['FunctionName']).toBe('genesys-guest-sync-example-outboxSweep');
  });

  it('is named in the environment of every function that keeps jobs in the outbox', () => {
    for (const fn of ['PrefillLambdaFunction', 'WebhookLambdaFunction', 'OutboxSweepLambdaFunction']) {
      expect(resources[fn]?.Properties['Environment']['Variables']['STATE_TABLE_NAME']).toBe('genesys-guest-sync-example-state');
    }
  });
});

describe('Genesys conversation events (EventBridge)', () => {
  const TOPICS = ['customer.start', 'attributes', 'customer.end'].map((topic) => `v2.detail.events.conversation.{id}.${topic}`);
  const BUS = 'aws.partner/genesys.com/cloud/00000000-0000-4000-8000-000000000000/guest-sync';
  const rule = (): Resource => {
    const found = ofType('AWS::Events::Rule').find(([, r]) => JSON.stringify(r.Properties['Targets']).includes('GenesysEventsLambdaFunction'));
    if (!found) throw new Error('no rule targets the events function');
    return found[1];
  };
  const role = (): Resource => resources[resources['GenesysEventsLambdaFunction']!.Properties['Role']['Fn::GetAtt'][0]]!;

  it('creates the partner event bus from the Genesys partner event source (organisation and suffix from the stage)', () => {
    expect(resources['GenesysEventBus']?.Properties).toEqual({ Name: BUS, EventSourceName: BUS });
    expect(resources['GenesysEventsLambdaFunction']?.Properties['Environment']['Variables']['EVENTBRIDGE_EVENT_BUS_NAME']).toBe(BUS);
  });

  it('invokes the events function for the three topics only, matched on detail-type with a literal {id}', () => {
    // Assess
    const props = rule().Properties;
    expect(props['EventBusName']).toEqual({ 'Fn::GetAtt': ['GenesysEventBus', 'Name'] });
    expect(props['EventPattern']).toEqual({ 'detail-type': TOPICS });
    expect(props['State']).toBe('ENABLED');
    expect(props['Targets']).toHaveLength(1);
    expect(props['Targets'][0]['Arn']).toEqual({ 'Fn::GetAtt': ['GenesysEventsLambdaFunction', 'Arn'] });
  });

  it('retries a delivery for at most an hour, then sends the event to its own DLQ (not the CRM sync DLQ)', () => {
    // Assess
    const target = rule().Properties['Targets'][0];
    expect(target['RetryPolicy']).toEqual({ MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 10 });
    expect(target['DeadLetterConfig']).toEqual({ Arn: { 'Fn::GetAtt': ['GenesysEventsDlq', 'Arn'] } });
    expect(resources['GenesysEventsDlq']?.Properties).toMatchObject({ MessageRetentionPeriod: 1_209_600, SqsManagedSseEnabled: true });
  });

  it('sends an event the function kept failing on (after Lambda\'s 2 asynchronous retries) to the same DLQ', () => {
    // Assess
    const config = ofType('AWS::Lambda::EventInvokeConfig').find(([, r]) => r.Properties['FunctionName'].Ref === 'GenesysEventsLambdaFunction')?.[1];
    expect(config?.Properties).toMatchObject({
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 3600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['GenesysEventsDlq', 'Arn'] } } },
    });
  });

  it('lets only this rule (events.amazonaws.com) send to the DLQ', () => {
    // Assess
    const policy = ofType('AWS::SQS::QueuePolicy').find(([, r]) => JSON.stringify(r.Properties['Queues']).includes('GenesysEventsDlq'))?.[1];
    expect(policy?.Properties['PolicyDocument']['Statement']).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: { 'Fn::GetAtt': ['GenesysEventsDlq', 'Arn'] },
        Condition: {
          ArnEquals: {
            'aws:SourceArn': { 'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:rule/\${GenesysEventBus.Name}/${rule().Properties['Name']}` },
          },
        },
      },
    ]);
  });

  it('gives the function only what it touches: its state items by key, the sync queue, the outbox, its DLQ and the Genesys secret', () => {
    // Assess
    const statements = statementsOf(role()).filter((s) => !asList(s['Action']).some((a: string) => a.startsWith('logs:')));
    expect(statements).toEqual([
      { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:genesys-guest-sync/example/genesys-credentials-??????' } },
      { Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: { 'Fn::GetAtt': ['CrmSyncQueue', 'Arn'] } },
      { Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: { 'Fn::GetAtt': ['GenesysEventsDlq', 'Arn'] } },
      {
        Effect: 'Allow',
        Action: ['dynamodb:PutItem'],
        Resource: { 'Fn::GetAtt': ['StateTable', 'Arn'] },
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['outbox#*'] } },
      },
      {
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
        Resource: { 'Fn::GetAtt': ['StateTable', 'Arn'] },
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['session#*', 'gsref#*', 'event#*', 'conversation#*'] } },
      },
    ]);
  });
});

describe("the CRM sync worker's rights and provider settings", () => {
  const worker = (): Resource => {
    const found = functions().find(([, f]) => f.Properties['Handler'] === 'functions/workers/crm-sync.handler');
    if (!found) throw new Error('no CRM sync worker');
    return found[1];
  };
  const dynamo = () =>
    statementsOf(resources[worker().Properties['Role']['Fn::GetAtt'][0]]!).filter((st) => asList(st['Action']).some((a: string) => a.startsWith('dynamodb:')));

  it('reads (one by one or in a batch) and conditionally writes only the pause and the record versions, and keeps finished chunks under chunk# only', () => {
    // Assess
    expect(dynamo().map((st) => [asList(st['Action']).sort(), st['Resource'], st['Condition']])).toEqual([
      [['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem'], { 'Fn::GetAtt': ['StateTable', 'Arn'] }, { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['pause#*', 'version#*'] } }],
      [
        ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        { 'Fn::GetAtt': ['StateTable', 'Arn'] },
        { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['chunk#*'] } },
      ],
    ]);
  });

  it('may neither scan nor query the table, nor touch its sessions, leases or outbox', () => {
    // Assess
    const actions = dynamo().flatMap((st) => asList(st['Action']));
    expect(actions).not.toContain('dynamodb:Scan');
    expect(actions).not.toContain('dynamodb:Query');
    const prefixes = dynamo().flatMap((st) => st['Condition']['ForAllValues:StringLike']['dynamodb:LeadingKeys'] as string[]);
    for (const prefix of prefixes) expect(prefix).toMatch(/^(pause|version|chunk)#\*$/);
  });

  it('is given the state table, CRM_PROVIDER (rest by default) and every provider setting, as is the control function', () => {
    // Prepare
    const control = functions().find(([, f]) => f.Properties['Handler'] === 'functions/scheduled/crm-sync-control.handler')![1];

    // Assess
    for (const fn of [worker(), control]) {
      const variables = fn.Properties['Environment']['Variables'];
      expect(variables).toMatchObject({ CRM_PROVIDER: 'rest', STATE_TABLE_NAME: 'genesys-guest-sync-example-state' });
      for (const name of ['CRM_TOKEN_URL', 'HUBSPOT_ID_PROPERTY', 'SALESFORCE_EXTERNAL_ID_FIELD', 'DYNAMICS_URL', 'DYNAMICS_ALTERNATE_KEY']) expect(variables).toHaveProperty(name);
    }
  });
});
