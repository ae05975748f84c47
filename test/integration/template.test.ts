/**
 * The deployable template: `osls package` for the example stage, read back as
 * CloudFormation. Checks what a security or platform reviewer would check.
 */
import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { oslsBin } from '../../local/serverless-config.ts';

const run = promisify(execFile);
const OUT = '.local/template-test';

type Resource = { Type: string; Properties: Record<string, any> };
let resources: Record<string, Resource>;

const ofType = (type: string): Array<[string, Resource]> => Object.entries(resources).filter(([, r]) => r.Type === type);
const functions = (): Array<[string, Resource]> => ofType('AWS::Lambda::Function');
const statementsOf = (role: Resource): Array<Record<string, any>> =>
  (role.Properties['Policies'] ?? []).flatMap((p: any) => p.PolicyDocument.Statement);
const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

beforeAll(async () => {
  await run(process.execPath, [oslsBin(), 'package', '--stage', 'example', '--package', OUT], {
    env: { ...process.env, SLS_TELEMETRY_DISABLED: '1' },
  });
  const template = JSON.parse(await readFile(join(OUT, 'cloudformation-template-update-stack.json'), 'utf8'));
  resources = template.Resources;
}, 120_000);

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
      const givenQueues = [...['CRM_SYNC_QUEUE_URL', 'CRM_SYNC_DLQ_URL'].filter((name) => name in variables).map((name) => variables[name]?.Ref), ...fedFrom];
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

  /** Evaluates the Fn::Not / Fn::Equals conditions the template uses, on literal values. */
  const evaluate = (condition: any): boolean => {
    if (condition['Fn::Not']) return !evaluate(condition['Fn::Not'][0]);
    if (condition['Fn::Equals']) return condition['Fn::Equals'][0] === condition['Fn::Equals'][1];
    throw new Error(`unexpected condition ${JSON.stringify(condition)}`);
  };
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
    const crmBatchSize = Number(worker().Properties['Environment']['Variables']['CRM_BATCH_SIZE']);

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

  it('may consume the queue, hold back and resend on it, send to the DLQ, read the CRM secret, read and write the pause, wake the control function, and nothing else', () => {
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
        `dynamodb:PutItem ${table}`,
        `lambda:InvokeFunction ${control}`,
      ].sort(),
    );
    // The state table only under the pause's key.
    for (const statement of statementsOf(role).filter((st) => asList(st['Action']).some((a: string) => a.startsWith('dynamodb:')))) {
      expect(statement['Condition']).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['pause#*'] } });
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

  it.each(['PrefillLambdaFunction', 'WebhookLambdaFunction', 'CreateGuestLambdaFunction', 'UpdateGuestLambdaFunction', 'PrechatEnrichLambdaFunction'])(
    '%s may only put items under outbox# (nothing else, no read)',
    (fn) => {
      const statements = dynamoStatements(fn);
      expect(statements).toHaveLength(1);
      expect(statements[0]).toMatchObject({
        Action: ['dynamodb:PutItem'],
        Resource: { 'Fn::GetAtt': ['StateTable', 'Arn'] },
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['outbox#*'] } },
      });
    },
  );

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

  it('is named in the environment of every function that keeps jobs in the outbox', () => {
    for (const fn of ['PrefillLambdaFunction', 'WebhookLambdaFunction', 'OutboxSweepLambdaFunction']) {
      expect(resources[fn]?.Properties['Environment']['Variables']['STATE_TABLE_NAME']).toBe('genesys-guest-sync-example-state');
    }
  });
});
