import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resetSharedAuthForTests, sharedSecretCache } from '#lib/auth';
import { loadConfig } from '#lib/config';

describe('the module-scope Secrets Manager client', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    resetSharedAuthForTests();
  });

  it('talks to the endpoint named by AWS_ENDPOINT_URL_SECRETS_MANAGER (the local stack)', async () => {
    // Prepare
    const targets: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        targets.push(`${String(req.headers['x-amz-target'])} ${(JSON.parse(body) as { SecretId: string }).SecretId}`);
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ Name: 'local/salt', SecretString: '{"salt":"local-pepper"}', VersionStages: ['AWSCURRENT'] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'local');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local');
    vi.stubEnv('AWS_SESSION_TOKEN', undefined);
    vi.stubEnv('AWS_PROFILE', undefined);
    resetSharedAuthForTests();

    // Act
    const secret = await sharedSecretCache(loadConfig([])).get('local/salt');
    server.close();

    // Assess
    expect(secret).toEqual({ salt: 'local-pepper' });
    expect(targets).toEqual(['secretsmanager.GetSecretValue local/salt']);
  });
});
