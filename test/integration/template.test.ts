/**
 * The deployable template: `osls package` for the example stage, read back as
 * CloudFormation. Checks what a security or platform reviewer would check.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
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
        for (const resource of asList(statement['Resource'])) expect(resource).not.toBe('*');
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
      expect(sends).toBe('CRM_SYNC_QUEUE_URL' in (fn.Properties['Environment']?.Variables ?? {}));
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
});
