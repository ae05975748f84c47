/**
 * The sections whose parsing had no test of its own: `state`, `prefill`, `guests`, the
 * widget's deployment cache, and the worker's optional state table and control function.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig, type SectionName } from '#lib/config';
import { ConfigError } from '#lib/errors';

type Env = Record<string, string | undefined>;

const WORKER: Env = {
  CRM_BASE_URL: 'https://crm.example.com/api',
  CRM_CREDENTIALS_SECRET_ID: 'genesys-guest-sync/prod/crm-credentials',
  CRM_SYNC_DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/genesys-guest-sync-prod-crm-sync-dlq',
};

/** The ConfigError `loadConfig` throws (fails the test when it does not throw one). */
function configErrorOf(sections: readonly SectionName[], env: Env): ConfigError {
  try {
    loadConfig(sections, env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

describe('the state section', () => {
  it('reads STATE_TABLE_NAME', () => {
    expect(loadConfig(['state'], { STATE_TABLE_NAME: 'genesys-guest-sync-prod-state' }).state).toEqual({ tableName: 'genesys-guest-sync-prod-state' });
  });

  it.each<[string, string | undefined, string]>([
    ['unset', undefined, 'STATE_TABLE_NAME is required'],
    ['too short', 'ab', 'STATE_TABLE_NAME must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)'],
    ['with a space', 'state table', 'STATE_TABLE_NAME must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)'],
  ])('refuses a table name %s', (_case, value, message) => {
    // Act
    const error = configErrorOf(['state'], { STATE_TABLE_NAME: value });

    // Assess
    expect(error.variables).toEqual(['STATE_TABLE_NAME']);
    expect(error.message).toBe(`Invalid configuration: ${message}`);
  });
});

describe('the prefill section', () => {
  it.each<[string | undefined, number]>([
    [undefined, 1800],
    ['60', 60],
    ['86400', 86_400],
  ])('keeps a prepared session PREFILL_TTL_SECONDS=%j -> %i s', (value, ttlSeconds) => {
    expect(loadConfig(['prefill'], { PREFILL_TTL_SECONDS: value }).prefill).toEqual({ ttlSeconds });
  });

  it.each(['59', '86401', '30m'])('refuses PREFILL_TTL_SECONDS=%j', (value) => {
    expect(configErrorOf(['prefill'], { PREFILL_TTL_SECONDS: value }).message).toBe('Invalid configuration: PREFILL_TTL_SECONDS must be an integer from 60 to 86400');
  });
});

describe('the guests section', () => {
  const guests: Env = { GUEST_EXTERNAL_SOURCE_ID: 'source-1', GUEST_CONTACT_SCHEMA_ID: 'schema-1' };

  it('reads the external source, the contact schema and 30 days of metrics by default', () => {
    expect(loadConfig(['guests'], guests).guests).toEqual({ externalSourceId: 'source-1', contactSchemaId: 'schema-1', metricsDays: 30 });
  });

  it('names both ids when neither is set', () => {
    expect(configErrorOf(['guests'], {}).variables).toEqual(['GUEST_EXTERNAL_SOURCE_ID', 'GUEST_CONTACT_SCHEMA_ID']);
  });

  it.each<[string, number | undefined]>([
    ['1', 1],
    ['90', 90],
    ['0', undefined],
    ['91', undefined],
  ])('GUEST_METRICS_DAYS=%j', (value, metricsDays) => {
    const env = { ...guests, GUEST_METRICS_DAYS: value };
    if (metricsDays === undefined) expect(configErrorOf(['guests'], env).message).toBe('Invalid configuration: GUEST_METRICS_DAYS must be an integer from 1 to 90');
    else expect(loadConfig(['guests'], env).guests.metricsDays).toBe(metricsDays);
  });
});

describe("the widget section's deployment cache", () => {
  const widget: Env = { WEB_DEPLOYMENT_ID: 'deployment-1', GENESYS_ORG_ID: 'org-1' };

  it.each<[string | undefined, number]>([
    [undefined, 300_000],
    ['0', 0],
    ['3600', 3_600_000],
  ])('WEB_DEPLOYMENT_CACHE_SECONDS=%j trusts an Active deployment for %i ms', (value, ms) => {
    expect(loadConfig(['widget'], { ...widget, WEB_DEPLOYMENT_CACHE_SECONDS: value }).widget.deploymentCacheTtlMs).toBe(ms);
  });

  it('refuses a cache longer than an hour', () => {
    expect(configErrorOf(['widget'], { ...widget, WEB_DEPLOYMENT_CACHE_SECONDS: '3601' }).variables).toEqual(['WEB_DEPLOYMENT_CACHE_SECONDS']);
  });
});

describe("the worker section's optional settings", () => {
  it('has no state table and wakes no control function when neither is set', () => {
    const { worker } = loadConfig(['crm', 'worker'], WORKER);
    expect(worker.state).toBeUndefined();
    expect(worker.controlFunctionName).toBeUndefined();
  });

  it.each<[string, Env, string]>([
    ['a state table name with a space', { STATE_TABLE_NAME: 'a b' }, 'STATE_TABLE_NAME must be a DynamoDB table name'],
    ['a control function name with a slash', { CRM_SYNC_CONTROL_FUNCTION: 'a/b' }, 'CRM_SYNC_CONTROL_FUNCTION must be a Lambda function name'],
    ['a probe interval over an hour', { CRM_SYNC_PROBE_INTERVAL_SECONDS: '3601' }, 'CRM_SYNC_PROBE_INTERVAL_SECONDS must be an integer from 1 to 3600'],
  ])('refuses %s', (_case, change, message) => {
    expect(configErrorOf(['crm', 'worker'], { ...WORKER, ...change }).message).toBe(`Invalid configuration: ${message}`);
  });
});
