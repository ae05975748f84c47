import { describe, expect, it } from 'vitest';
import { ConfigError } from '#lib/errors';
import { loadConfig } from '#lib/config';

type Env = Record<string, string | undefined>;

/** The CRM sync worker's configuration: its `crm` and `worker` sections. */
const loadSyncWorkerConfig = (env: Env) => loadConfig(['crm', 'worker'], env);

/** The CRM sync control function's configuration: its `crm` and `control` sections. */
const loadSyncControlConfig = (env: Env) => loadConfig(['crm', 'control'], env);

const env = {
  CRM_BASE_URL: 'https://crm.example.com/api/',
  CRM_CREDENTIALS_SECRET_ID: 'genesys-guest-sync/prod/crm-credentials',
  CRM_SYNC_DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/genesys-guest-sync-prod-crm-sync-dlq',
};

describe('the CRM sync worker (crm and worker sections)', () => {
  it('reads the defaults', () => {
    expect(loadSyncWorkerConfig(env)).toEqual({
      runtime: { stage: 'local', version: '0.0.0', secretCacheTtlMs: 300_000 },
      crm: { provider: 'rest', baseUrl: 'https://crm.example.com/api', credentialsSecretId: env.CRM_CREDENTIALS_SECRET_ID, batchSize: 50, maxRequestsPerSecond: 10, maxRequestsPerSecondExplicit: false },
      worker: {
        dlqUrl: env.CRM_SYNC_DLQ_URL,
        maxReceiveCount: 5,
        breakerHalfOpenMs: 30_000,
        probeIntervalMs: 60_000,
      },
    });
  });

  it('reads the state table that holds the versions and finished chunks, when there is one', () => {
    // Assess
    expect(loadSyncWorkerConfig({ ...env, STATE_TABLE_NAME: 'genesys-guest-sync-prod-state' }).worker.state?.tableName).toBe('genesys-guest-sync-prod-state');
    expect(() => loadSyncWorkerConfig({ ...env, STATE_TABLE_NAME: 'a b' })).toThrow(/STATE_TABLE_NAME/);
  });

  it('reads the outage pause settings', () => {
    // Act
    const config = loadSyncWorkerConfig({ ...env, CRM_SYNC_PROBE_INTERVAL_SECONDS: '5', CRM_SYNC_CONTROL_FUNCTION: 'genesys-guest-sync-prod-crmSyncControl' });

    // Assess
    expect(config.worker).toMatchObject({ probeIntervalMs: 5_000, controlFunctionName: 'genesys-guest-sync-prod-crmSyncControl' });
  });

  it('reads every setting', () => {
    // Act
    const config = loadSyncWorkerConfig({ ...env, CRM_BATCH_SIZE: '25', CRM_MAX_REQUESTS_PER_SECOND: '5', CRM_SYNC_MAX_RECEIVE_COUNT: '3', CRM_BREAKER_HALF_OPEN_SECONDS: '2' });

    // Assess
    expect(config).toMatchObject({ crm: { batchSize: 25, maxRequestsPerSecond: 5 }, worker: { maxReceiveCount: 3, breakerHalfOpenMs: 2_000 } });
  });

  it.each<[string, Env, string[]]>([
    ['no DLQ', { CRM_SYNC_DLQ_URL: undefined }, ['CRM_SYNC_DLQ_URL']],
    ['a DLQ that is not a URL', { CRM_SYNC_DLQ_URL: 'my-dlq' }, ['CRM_SYNC_DLQ_URL']],
    ['no CRM URL', { CRM_BASE_URL: undefined }, ['CRM_BASE_URL']],
    ['a batch size over 500', { CRM_BATCH_SIZE: '501' }, ['CRM_BATCH_SIZE']],
    ['a zero receive count', { CRM_SYNC_MAX_RECEIVE_COUNT: '0' }, ['CRM_SYNC_MAX_RECEIVE_COUNT']],
    ['a fractional breaker pause', { CRM_BREAKER_HALF_OPEN_SECONDS: '1.5' }, ['CRM_BREAKER_HALF_OPEN_SECONDS']],
    ['several at once', { CRM_BASE_URL: undefined, CRM_SYNC_DLQ_URL: undefined, CRM_MAX_REQUESTS_PER_SECOND: 'fast' }, ['CRM_BASE_URL', 'CRM_MAX_REQUESTS_PER_SECOND', 'CRM_SYNC_DLQ_URL']],
  ])('names the variable for %s', (_case, change, variables) => {
    // Act
    let caught: unknown;
    try {
      loadSyncWorkerConfig({ ...env, ...change });
    } catch (error) {
      caught = error;
    }

    // Assess
    expect(caught).toBeInstanceOf(ConfigError);
    expect([...(caught as ConfigError).variables].sort()).toEqual(variables);
  });
});

describe('the CRM sync control (crm and control sections)', () => {
  it('reads the mapping id and the probe interval', () => {
    // Act
    const config = loadSyncControlConfig({ ...env, CRM_SYNC_EVENT_SOURCE_MAPPING_ID: '6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b' });

    // Assess
    expect(config).toMatchObject({ crm: { provider: 'rest', baseUrl: 'https://crm.example.com/api' }, control: { mappingId: '6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b', probeIntervalMs: 60_000 } });
  });

  it('reads the provider the probe goes through, and names its missing settings', () => {
    // Act
    const config = loadSyncControlConfig({ ...env, CRM_PROVIDER: 'hubspot', HUBSPOT_ID_PROPERTY: 'suite_external_id', CRM_SYNC_EVENT_SOURCE_MAPPING_ID: '6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b' });

    // Assess
    expect(config.crm).toMatchObject({ provider: 'hubspot', hubspotIdProperty: 'suite_external_id', batchSize: 100 });
    expect(() => loadSyncWorkerConfig({ ...env, CRM_PROVIDER: 'salesforce' })).toThrow(/SALESFORCE_EXTERNAL_ID_FIELD is required/);
  });

  it('names a missing mapping id', () => {
    expect(() => loadSyncControlConfig(env)).toThrow(/CRM_SYNC_EVENT_SOURCE_MAPPING_ID/);
  });
});
