import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GenesysTokenProvider, sharedCrmTokenProvider, sharedGenesysTokenProvider, sharedSecretCache } from '#lib/auth';
import { CrmTokenProvider } from '#lib/auth/crm-token.ts';
import { resetSharedAuthForTests } from '#lib/auth/shared.ts';
import { loadConfig } from '#lib/config';
import { ConfigError } from '#lib/errors';
import { secretOutput, startLoginServer } from './support.ts';

const secretsManager = mockClient(SecretsManagerClient);
const secretReads = (): number => secretsManager.commandCalls(GetSecretValueCommand).length;

describe('shared auth instances', () => {
  beforeEach(() => {
    secretsManager.reset();
    secretsManager.on(GetSecretValueCommand).resolves(
      secretOutput({ clientId: 'id', clientSecret: 'pw', apiToken: 'crm-token' }),
    );
    resetSharedAuthForTests();
  });

  afterEach(() => {
    vi.unstubAllEnvs();
    resetSharedAuthForTests();
  });

  it('hands every caller the same secret cache until reset', () => {
    // Prepare
    const first = sharedSecretCache(loadConfig([]));

    // Act
    const again = sharedSecretCache(loadConfig([]));
    resetSharedAuthForTests();
    const afterReset = sharedSecretCache(loadConfig([]));

    // Assess
    expect(again).toBe(first);
    expect(afterReset).not.toBe(first);
  });

  it('caches secrets for 5 minutes by default', async () => {
    // Prepare
    vi.stubEnv('SECRET_CACHE_TTL_SECONDS', undefined);

    // Act
    await sharedSecretCache(loadConfig([])).get('any');
    await sharedSecretCache(loadConfig([])).get('any');

    // Assess
    expect(secretReads()).toBe(1);
  });

  it('honours SECRET_CACHE_TTL_SECONDS (0 turns caching off)', async () => {
    // Prepare
    vi.stubEnv('SECRET_CACHE_TTL_SECONDS', '0');

    // Act
    await sharedSecretCache(loadConfig([])).get('any');
    await sharedSecretCache(loadConfig([])).get('any');

    // Assess
    expect(secretReads()).toBe(2);
  });

  it('builds the shared Genesys provider from the environment', async () => {
    // Prepare
    const login = await startLoginServer();
    vi.stubEnv('GENESYS_REGION', undefined);
    vi.stubEnv('GENESYS_API_BASE_URL', 'http://127.0.0.1:9');
    vi.stubEnv('GENESYS_LOGIN_BASE_URL', login.baseUrl);
    vi.stubEnv('GENESYS_CREDENTIALS_SECRET_ID', 'guest-sync/genesys');

    // Act
    const provider = sharedGenesysTokenProvider(loadConfig(['genesys']));
    const token = await provider.getToken();
    await login.close();

    // Assess
    expect(provider).toBeInstanceOf(GenesysTokenProvider);
    expect(sharedGenesysTokenProvider(loadConfig(['genesys']))).toBe(provider);
    expect(token).toBe('token-1');
    expect(secretsManager.commandCalls(GetSecretValueCommand)[0]?.args[0].input.SecretId).toBe('guest-sync/genesys');
  });

  it('builds the shared CRM provider from the environment', async () => {
    // Prepare
    vi.stubEnv('CRM_BASE_URL', 'http://127.0.0.1:9');
    vi.stubEnv('CRM_CREDENTIALS_SECRET_ID', 'guest-sync/crm');

    // Act
    const provider = sharedCrmTokenProvider(loadConfig(['crm']));
    const token = await provider.getToken();

    // Assess
    expect(provider).toBeInstanceOf(CrmTokenProvider);
    expect(sharedCrmTokenProvider(loadConfig(['crm']))).toBe(provider);
    expect(token).toBe('crm-token');
  });

  it('names the missing variable when the Genesys provider cannot be configured', () => {
    // Prepare
    vi.stubEnv('GENESYS_REGION', 'mypurecloud.com');
    vi.stubEnv('GENESYS_CREDENTIALS_SECRET_ID', undefined);

    // Act
    const build = (): unknown => sharedGenesysTokenProvider(loadConfig(['genesys']));

    // Assess
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(/GENESYS_CREDENTIALS_SECRET_ID/);
  });

  it('builds from the configuration its function loaded, without reading the environment again', async () => {
    // Prepare
    const login = await startLoginServer();
    vi.stubEnv('GENESYS_REGION', undefined);
    vi.stubEnv('GENESYS_LOGIN_BASE_URL', undefined);
    vi.stubEnv('GENESYS_CREDENTIALS_SECRET_ID', undefined);
    vi.stubEnv('SECRET_CACHE_TTL_SECONDS', '0');
    const config = loadConfig(['genesys'], {
      GENESYS_API_BASE_URL: 'http://127.0.0.1:9',
      GENESYS_LOGIN_BASE_URL: login.baseUrl,
      GENESYS_CREDENTIALS_SECRET_ID: 'guest-sync/genesys-from-config',
    });

    // Act
    const token = await sharedGenesysTokenProvider(config).getToken();
    await sharedSecretCache(config).get('any');
    await sharedSecretCache(config).get('any');
    await login.close();

    // Assess
    expect(token).toBe('token-1');
    expect(secretsManager.commandCalls(GetSecretValueCommand)[0]?.args[0].input.SecretId).toBe('guest-sync/genesys-from-config');
    // The cache keeps the configuration's 5-minute TTL, not the environment's 0.
    expect(secretsManager.commandCalls(GetSecretValueCommand).filter((call) => call.args[0].input.SecretId === 'any')).toHaveLength(1);
  });
});
