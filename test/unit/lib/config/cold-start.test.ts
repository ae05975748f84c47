import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '#lib/errors';
import { configAtColdStart } from '#lib/config';
import { captureOutput } from '#test/support/lambda.ts';
import type { CapturedOutput } from '#test/support/lambda.ts';

let output: CapturedOutput;
beforeEach(() => {
  output = captureOutput();
});
afterEach(() => {
  output.restore();
  vi.unstubAllEnvs();
});

describe('configAtColdStart', () => {
  it('hands every invocation the configuration read once at cold start', () => {
    // Prepare
    const env: Record<string, string | undefined> = { WEBHOOK_SECRET_ID: 'hook-v1', SERVICE_VERSION: '2.0.0' };

    // Act
    const config = configAtColdStart(['webhook'], { env });
    env['WEBHOOK_SECRET_ID'] = 'hook-v2';

    // Assess
    expect(config().webhook.secretId).toBe('hook-v1');
    expect(config().runtime.version).toBe('2.0.0');
    expect(config()).toBe(config());
  });

  it('reads process.env by default', () => {
    // Prepare
    vi.stubEnv('IDENTITY_SALT_SECRET_ID', 'salt-from-env');

    // Act
    const config = configAtColdStart(['identity']);

    // Assess
    expect(config().identity.saltSecretId).toBe('salt-from-env');
  });

  it('does not crash the cold start when the configuration is invalid', () => {
    // Act
    const load = () => configAtColdStart(['crm', 'webhook'], { env: { CRM_BATCH_SIZE: 'many' } });

    // Assess
    expect(load).not.toThrow();
  });

  it('fails every invocation with the same ConfigError naming the variables', () => {
    // Prepare
    const config = configAtColdStart(['crm', 'webhook'], { env: { CRM_BATCH_SIZE: 'many' } });

    // Act
    const failures = [1, 2].map(() => {
      try {
        config();
        return undefined;
      } catch (error) {
        return error;
      }
    });

    // Assess
    expect(failures[0]).toBeInstanceOf(ConfigError);
    expect(failures[1]).toBe(failures[0]);
    expect((failures[0] as ConfigError).variables).toEqual([
      'CRM_BASE_URL',
      'CRM_CREDENTIALS_SECRET_ID',
      'CRM_BATCH_SIZE',
      'WEBHOOK_SECRET_ID',
    ]);
  });

  it('logs the offending variables once, at cold start, without their values', () => {
    // Prepare
    const env = { CRM_BASE_URL: 'crm-internal-host-xyz', CRM_CREDENTIALS_SECRET_ID: 'crm' };

    // Act
    const config = configAtColdStart(['crm'], { env });
    expect(config).toThrow(ConfigError);
    expect(config).toThrow(ConfigError);

    // Assess
    const entries = output.logged('Invalid configuration at cold start');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ level: 'ERROR', variables: ['CRM_BASE_URL'] });
    expect(String(entries[0]?.['detail'])).toContain('CRM_BASE_URL must be an http(s) URL');
    expect(output.text()).not.toContain('crm-internal-host-xyz');
  });

  it('logs nothing when the configuration is valid', () => {
    // Act
    configAtColdStart(['webhook'], { env: { WEBHOOK_SECRET_ID: 'hook' } });

    // Assess
    expect(output.logged('Invalid configuration at cold start')).toEqual([]);
  });

  it('hands every invocation what `derive` made of the sections, computed once', () => {
    // Prepare
    let derivations = 0;

    // Act
    const config = configAtColdStart(['webhook'], {
      env: { WEBHOOK_SECRET_ID: 'hook' },
      derive: ({ webhook }) => {
        derivations += 1;
        return { secretLength: webhook.secretId.length };
      },
    });

    // Assess
    expect(config()).toMatchObject({ webhook: { secretId: 'hook' }, secretLength: 4 });
    expect(config()).toBe(config());
    expect(derivations).toBe(1);
  });

  it('treats a ConfigError from `derive` like a bad section: logged once at cold start, thrown by every invocation', () => {
    // Act
    const config = configAtColdStart(['webhook'], {
      env: { WEBHOOK_SECRET_ID: 'hook' },
      derive: () => {
        throw new ConfigError('GENESYS_REGION "example.com" has no known Messenger environment', ['GENESYS_REGION']);
      },
    });

    // Assess
    expect(config).toThrow(ConfigError);
    expect(config).toThrow(/GENESYS_REGION/);
    expect(output.logged('Invalid configuration at cold start')).toEqual([expect.objectContaining({ variables: ['GENESYS_REGION'] })]);
  });
});
