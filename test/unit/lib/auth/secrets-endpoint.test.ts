import { afterEach, describe, expect, it, vi } from 'vitest';
import { sharedSecretCache } from '#lib/auth';
import { resetSharedAuthForTests } from '#lib/auth/shared.ts';
import { loadConfig } from '#lib/config';
import { startScriptedServer } from '#test/support/scripted-server.ts';

describe('the module-scope Secrets Manager client', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    resetSharedAuthForTests();
  });

  it('talks to the endpoint named by AWS_ENDPOINT_URL_SECRETS_MANAGER (the local stack)', async () => {
    // Prepare
    const server = await startScriptedServer([], {
      after: {
        status: 200,
        headers: { 'content-type': 'application/x-amz-json-1.1' },
        body: { Name: 'local/salt', SecretString: '{"salt":"local-pepper"}', VersionStages: ['AWSCURRENT'] },
      },
    });
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', server.url);
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'local');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local');
    vi.stubEnv('AWS_SESSION_TOKEN', undefined);
    vi.stubEnv('AWS_PROFILE', undefined);
    resetSharedAuthForTests();

    // Act
    const secret = await sharedSecretCache(loadConfig([])).get('local/salt');
    await server.close();

    // Assess
    expect(secret).toEqual({ salt: 'local-pepper' });
    expect(server.requests.map((r) => `${String(r.headers['x-amz-target'])} ${(JSON.parse(r.body) as { SecretId: string }).SecretId}`)).toEqual([
      'secretsmanager.GetSecretValue local/salt',
    ]);
  });
});
