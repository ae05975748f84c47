import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '#lib/config';
import type { SectionName } from '#lib/config/types.ts';
import { ConfigError } from '#lib/errors';

type Env = Record<string, string | undefined>;

/** A complete, valid environment for every section, as a deployed stage would have it. */
const fullEnv = (overrides: Env = {}): Env => ({
  STAGE: 'prod',
  SERVICE_VERSION: '1.4.2',
  SECRET_CACHE_TTL_SECONDS: '120',
  GENESYS_REGION: 'mypurecloud.ie',
  GENESYS_API_BASE_URL: '',
  GENESYS_LOGIN_BASE_URL: '',
  GENESYS_CREDENTIALS_SECRET_ID: 'genesys-guest-sync/prod/genesys-credentials',
  GENESYS_ORG_ID: '00000000-0000-4000-8000-000000000000',
  CRM_BASE_URL: 'https://crm.example.com/api',
  CRM_CREDENTIALS_SECRET_ID: 'genesys-guest-sync/prod/crm-credentials',
  CRM_BATCH_SIZE: '25',
  CRM_MAX_REQUESTS_PER_SECOND: '20',
  CRM_SYNC_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/crm-sync',
  CRM_SYNC_DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/crm-sync-dlq',
  WEBHOOK_SECRET_ID: 'genesys-guest-sync/prod/webhook-signing-secret',
  IDENTITY_SALT_SECRET_ID: 'genesys-guest-sync/prod/identity-salt',
  ROUTING_QUEUES: '{"platinum":"queue-platinum","gold":"queue-gold","standard":"queue-standard"}',
  WEB_DEPLOYMENT_ID: '00000000-0000-4000-8000-000000000001',
  GUEST_ATTRIBUTE_ALLOWLIST: 'customerId,loyaltyTier',
  ...overrides,
});

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

describe('a complete environment', () => {
  it('reads every section into typed values', () => {
    // Prepare
    const env = fullEnv();

    // Act
    const config = loadConfig(['genesys', 'crm', 'queue', 'webhook', 'identity', 'routing', 'widget'], env);

    // Assess
    expect(config).toEqual({
      runtime: { stage: 'prod', version: '1.4.2', secretCacheTtlMs: 120_000 },
      genesys: {
        region: 'mypurecloud.ie',
        apiBaseUrl: 'https://api.mypurecloud.ie',
        loginBaseUrl: 'https://login.mypurecloud.ie',
        credentialsSecretId: 'genesys-guest-sync/prod/genesys-credentials',
        organizationId: '00000000-0000-4000-8000-000000000000',
      },
      crm: {
        baseUrl: 'https://crm.example.com/api',
        credentialsSecretId: 'genesys-guest-sync/prod/crm-credentials',
        batchSize: 25,
        maxRequestsPerSecond: 20,
        maxRequestsPerSecondExplicit: true,
        provider: 'rest',
      },
      queue: {
        queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/crm-sync',
        dlqUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/crm-sync-dlq',
      },
      webhook: { secretId: 'genesys-guest-sync/prod/webhook-signing-secret' },
      identity: { saltSecretId: 'genesys-guest-sync/prod/identity-salt' },
      routing: { queues: { platinum: 'queue-platinum', gold: 'queue-gold', standard: 'queue-standard' } },
      widget: {
        webDeploymentId: '00000000-0000-4000-8000-000000000001',
        deploymentCacheTtlMs: 300_000,
        organizationId: '00000000-0000-4000-8000-000000000000',
        environment: 'mypurecloud.ie',
        guestAttributeAllowlist: ['customerId', 'loyaltyTier'],
      },
    });
  });

  it('trims whitespace around values', () => {
    // Prepare
    const env = fullEnv({ CRM_BASE_URL: '  https://crm.example.com  ', CRM_BATCH_SIZE: ' 10 ', WEBHOOK_SECRET_ID: ' hook ' });

    // Act
    const config = loadConfig(['crm', 'webhook'], env);

    // Assess
    expect(config.crm.baseUrl).toBe('https://crm.example.com');
    expect(config.crm.batchSize).toBe(10);
    expect(config.webhook.secretId).toBe('hook');
  });
});

describe('the runtime section', () => {
  it('is always read, with local defaults, even when no section is asked for', () => {
    // Act
    const config = loadConfig([], {});

    // Assess
    expect(config).toEqual({ runtime: { stage: 'local', version: '0.0.0', secretCacheTtlMs: 300_000 } });
  });

  it('accepts a zero secret cache TTL (no caching)', () => {
    // Act
    const config = loadConfig([], { SECRET_CACHE_TTL_SECONDS: '0' });

    // Assess
    expect(config.runtime.secretCacheTtlMs).toBe(0);
  });

  it.each(['-1', '86401', '5m', '1.5'])('rejects SECRET_CACHE_TTL_SECONDS=%j', (value) => {
    // Act
    const error = configErrorOf([], { SECRET_CACHE_TTL_SECONDS: value });

    // Assess
    expect(error.variables).toEqual(['SECRET_CACHE_TTL_SECONDS']);
    expect(error.message).toContain('SECRET_CACHE_TTL_SECONDS must be an integer from 0 to 86400');
  });
});

describe('required variables, section by section', () => {
  describe.each<{ section: SectionName; variables: string[]; base?: Env }>([
    // GENESYS_REGION has its own cases under "Genesys hosts".
    { section: 'genesys', variables: ['GENESYS_CREDENTIALS_SECRET_ID'], base: { GENESYS_REGION: 'mypurecloud.com' } },
    { section: 'crm', variables: ['CRM_BASE_URL', 'CRM_CREDENTIALS_SECRET_ID'] },
    { section: 'queue', variables: ['CRM_SYNC_QUEUE_URL'] },
    { section: 'webhook', variables: ['WEBHOOK_SECRET_ID'] },
    { section: 'identity', variables: ['IDENTITY_SALT_SECRET_ID'] },
    { section: 'routing', variables: ['ROUTING_QUEUES'] },
    { section: 'widget', variables: ['WEB_DEPLOYMENT_ID', 'GENESYS_ORG_ID'] },
  ])('the $section section', ({ section, variables, base = {} }) => {
    it(`names ${variables.join(' and ')} when none of its variables is set`, () => {
      // Act
      const error = configErrorOf([section], base);

      // Assess
      expect(error.name).toBe('ConfigError');
      expect(error.variables).toEqual(variables);
      for (const variable of variables) expect(error.message).toContain(variable);
    });

    it.each(variables)('names %s alone when only it is missing', (variable) => {
      // Prepare
      const env = fullEnv({ [variable]: undefined });

      // Act
      const error = configErrorOf([section], env);

      // Assess
      expect(error.variables).toEqual([variable]);
      expect(error.message).toContain(variable);
    });

    it.each(variables)('treats a blank %s as missing', (variable) => {
      // Prepare
      const env = fullEnv({ [variable]: '   ' });

      // Act
      const error = configErrorOf([section], env);

      // Assess
      expect(error.variables).toEqual([variable]);
    });
  });

  it('does not require the optional CRM_SYNC_DLQ_URL', () => {
    // Act
    const config = loadConfig(['queue'], fullEnv({ CRM_SYNC_DLQ_URL: undefined }));

    // Assess
    expect(config.queue).toEqual({ queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/crm-sync', dlqUrl: undefined });
  });

  it('validates CRM_SYNC_DLQ_URL when it is set', () => {
    // Act
    const error = configErrorOf(['queue'], fullEnv({ CRM_SYNC_DLQ_URL: 'crm-sync-dlq' }));

    // Assess
    expect(error.variables).toEqual(['CRM_SYNC_DLQ_URL']);
  });

  it('does not require GENESYS_ORG_ID for the genesys section', () => {
    // Act
    const config = loadConfig(['genesys'], fullEnv({ GENESYS_ORG_ID: undefined }));

    // Assess
    expect(config.genesys.organizationId).toBeUndefined();
  });

  it('applies the CRM defaults: the rest provider, batches of 50, 10 requests per second', () => {
    // Act
    const config = loadConfig(['crm'], fullEnv({ CRM_BATCH_SIZE: undefined, CRM_MAX_REQUESTS_PER_SECOND: '' }));

    // Assess
    expect(config.crm.provider).toBe('rest');
    expect(config.crm.batchSize).toBe(50);
    expect(config.crm.maxRequestsPerSecond).toBe(10);
    // Left empty (as serverless.yml passes it unset), the provider's window may lift the pace.
    expect(config.crm.maxRequestsPerSecondExplicit).toBe(false);
  });

  it.each([
    ['hubspot', { HUBSPOT_ID_PROPERTY: 'suite_external_id' }, 100],
    ['salesforce', { SALESFORCE_EXTERNAL_ID_FIELD: 'Suite_External_Id__c' }, 200],
    ['dynamics', { DYNAMICS_URL: 'https://org.crm.dynamics.com', DYNAMICS_ALTERNATE_KEY: 'suite_externalid' }, 100],
  ] as const)('CRM_PROVIDER=%s batches at its maximum by default and needs no CRM_BASE_URL', (provider, settings, limit) => {
    // Act
    const { crm } = loadConfig(['crm'], fullEnv({ CRM_PROVIDER: provider, CRM_BASE_URL: undefined, CRM_BATCH_SIZE: undefined, ...settings }));

    // Assess
    expect(crm.provider).toBe(provider);
    expect(crm.batchSize).toBe(limit);
    expect(crm.baseUrl).toBe('');
    expect(configErrorOf(['crm'], fullEnv({ CRM_PROVIDER: provider, CRM_BATCH_SIZE: String(limit + 1), ...settings })).variables).toEqual(['CRM_BATCH_SIZE']);
  });

  it.each([
    ['hubspot', ['HUBSPOT_ID_PROPERTY']],
    ['salesforce', ['SALESFORCE_EXTERNAL_ID_FIELD']],
    ['dynamics', ['DYNAMICS_URL', 'DYNAMICS_ALTERNATE_KEY']],
  ] as const)('CRM_PROVIDER=%s without its settings fails at start-up naming each one', (provider, missing) => {
    // Act
    const error = configErrorOf(['crm'], fullEnv({ CRM_PROVIDER: provider }));

    // Assess
    expect(error.variables).toEqual(missing);
    for (const variable of missing) expect(error.message).toContain(`${variable} is required`);
  });

  it('defaults the request rate per container so two containers stay within the provider short window (HubSpot: 5/s, 100 per 10 s)', () => {
    // Act
    const hubspot = loadConfig(['crm'], fullEnv({ CRM_PROVIDER: 'hubspot', HUBSPOT_ID_PROPERTY: 'suite_external_id', CRM_MAX_REQUESTS_PER_SECOND: undefined })).crm;
    const rest = loadConfig(['crm'], fullEnv({ CRM_MAX_REQUESTS_PER_SECOND: undefined })).crm;

    // Assess
    expect(hubspot.maxRequestsPerSecond * 2 * 10).toBeLessThanOrEqual(100);
    expect(rest.maxRequestsPerSecond).toBe(10);
  });

  it('reads the HubSpot account time zone for its daily reset, and refuses a name that is not a time zone', () => {
    // Act
    const hubspot = (zone: string | undefined) => fullEnv({ CRM_PROVIDER: 'hubspot', HUBSPOT_ID_PROPERTY: 'suite_external_id', HUBSPOT_TIME_ZONE: zone });

    // Assess
    expect(loadConfig(['crm'], hubspot('America/New_York')).crm.hubspotTimeZone).toBe('America/New_York');
    expect(loadConfig(['crm'], hubspot(undefined)).crm.hubspotTimeZone).toBeUndefined();
    expect(loadConfig(['crm'], hubspot('')).crm.hubspotTimeZone).toBeUndefined();
    expect(configErrorOf(['crm'], hubspot('Mars/Olympus_Mons')).variables).toEqual(['HUBSPOT_TIME_ZONE']);
  });

  it('refuses an unknown CRM_PROVIDER and email as the HubSpot id property', () => {
    // Assess
    expect(configErrorOf(['crm'], fullEnv({ CRM_PROVIDER: 'pipedrive' })).variables).toEqual(['CRM_PROVIDER']);
    expect(configErrorOf(['crm'], fullEnv({ CRM_PROVIDER: 'hubspot', HUBSPOT_ID_PROPERTY: 'email' })).variables).toEqual(['HUBSPOT_ID_PROPERTY']);
  });
});

describe('Genesys hosts', () => {
  it.each([
    ['mypurecloud.com', 'https://api.mypurecloud.com', 'https://login.mypurecloud.com'],
    ['mypurecloud.ie', 'https://api.mypurecloud.ie', 'https://login.mypurecloud.ie'],
    ['usw2.pure.cloud', 'https://api.usw2.pure.cloud', 'https://login.usw2.pure.cloud'],
    ['mypurecloud.com.au', 'https://api.mypurecloud.com.au', 'https://login.mypurecloud.com.au'],
  ])('derive from GENESYS_REGION=%s', (region, api, login) => {
    // Act
    const { genesys } = loadConfig(['genesys'], fullEnv({ GENESYS_REGION: region }));

    // Assess
    expect(genesys.region).toBe(region);
    expect(genesys.apiBaseUrl).toBe(api);
    expect(genesys.loginBaseUrl).toBe(login);
  });

  it('give way to GENESYS_API_BASE_URL and GENESYS_LOGIN_BASE_URL, trailing slashes trimmed', () => {
    // Prepare
    const env = fullEnv({
      GENESYS_API_BASE_URL: 'http://127.0.0.1:4010/',
      GENESYS_LOGIN_BASE_URL: 'http://127.0.0.1:4011/login//',
    });

    // Act
    const { genesys } = loadConfig(['genesys'], env);

    // Assess
    expect(genesys.apiBaseUrl).toBe('http://127.0.0.1:4010');
    expect(genesys.loginBaseUrl).toBe('http://127.0.0.1:4011/login');
  });

  it('let one override win while the other host still comes from the region', () => {
    // Prepare
    const env = fullEnv({ GENESYS_API_BASE_URL: 'http://127.0.0.1:4010' });

    // Act
    const { genesys } = loadConfig(['genesys'], env);

    // Assess
    expect(genesys.apiBaseUrl).toBe('http://127.0.0.1:4010');
    expect(genesys.loginBaseUrl).toBe('https://login.mypurecloud.ie');
  });

  it('need no region when both overrides are set (the local stack)', () => {
    // Prepare
    const env = fullEnv({
      GENESYS_REGION: undefined,
      GENESYS_API_BASE_URL: 'http://127.0.0.1:4010',
      GENESYS_LOGIN_BASE_URL: 'http://127.0.0.1:4011',
    });

    // Act
    const { genesys } = loadConfig(['genesys'], env);

    // Assess
    expect(genesys).toMatchObject({ region: '', apiBaseUrl: 'http://127.0.0.1:4010', loginBaseUrl: 'http://127.0.0.1:4011' });
  });

  it('are reported as one missing GENESYS_REGION when there is no region and nothing overrides it', () => {
    // Prepare
    const env = fullEnv({ GENESYS_REGION: undefined });

    // Act
    const error = configErrorOf(['genesys'], env);

    // Assess
    expect(error.message).toContain('GENESYS_REGION is required (or both GENESYS_API_BASE_URL and GENESYS_LOGIN_BASE_URL)');
    // The base URLs are an alternative, not required variables: an operator told
    // "GENESYS_API_BASE_URL is required" would set the wrong variable.
    expect(error.message).not.toContain('GENESYS_API_BASE_URL is required');
    expect(error.variables).toEqual(['GENESYS_REGION']);
  });

  it('need the region when only one override is set, and name the missing one', () => {
    // Prepare
    const env = fullEnv({ GENESYS_REGION: undefined, GENESYS_API_BASE_URL: 'http://127.0.0.1:4010' });

    // Act
    const error = configErrorOf(['genesys'], env);

    // Assess
    expect(error.variables).toEqual(['GENESYS_REGION', 'GENESYS_LOGIN_BASE_URL']);
  });

  it('treat empty overrides (as serverless.yml passes them) as unset', () => {
    // Act
    const { genesys } = loadConfig(['genesys'], fullEnv({ GENESYS_API_BASE_URL: '', GENESYS_LOGIN_BASE_URL: '' }));

    // Assess
    expect(genesys.apiBaseUrl).toBe('https://api.mypurecloud.ie');
  });

  it.each(['https://mypurecloud.com', 'mypurecloud', 'MYPURECLOUD.COM', 'my purecloud.com', 'mypurecloud.com/'])(
    'refuse GENESYS_REGION=%j, naming only GENESYS_REGION',
    (region) => {
      // Act
      const error = configErrorOf(['genesys'], fullEnv({ GENESYS_REGION: region }));

      // Assess
      expect(error.variables).toEqual(['GENESYS_REGION']);
      expect(error.message).toContain('GENESYS_REGION must be a host suffix');
    },
  );
});

describe('malformed values', () => {
  it.each([
    ['CRM_BASE_URL', 'crm.example.com'],
    ['CRM_BASE_URL', 'ftp://crm.example.com'],
    ['CRM_BASE_URL', 'not a url'],
    ['CRM_SYNC_QUEUE_URL', '/123456789012/crm-sync'],
    ['GENESYS_API_BASE_URL', 'localhost:4010'],
    ['GENESYS_LOGIN_BASE_URL', 'file:///etc/passwd'],
  ])('%s=%j is not an http(s) URL', (variable, value) => {
    // Act
    const error = configErrorOf(['genesys', 'crm', 'queue'], fullEnv({ [variable]: value }));

    // Assess
    expect(error.variables).toEqual([variable]);
    expect(error.message).toContain(`${variable} must be an http(s) URL`);
  });

  it.each(['abc', '12.5', '1e2', '0x10', '0', '-5', '51', '1000'])('CRM_BATCH_SIZE=%j is refused (the rest CRM takes at most 50)', (value) => {
    // Act
    const error = configErrorOf(['crm'], fullEnv({ CRM_BATCH_SIZE: value }));

    // Assess
    expect(error.variables).toEqual(['CRM_BATCH_SIZE']);
    expect(error.message).toContain('CRM_BATCH_SIZE must be an integer from 1 to 50');
  });

  it.each([
    ['1', 1],
    ['50', 50],
  ])('CRM_BATCH_SIZE=%j is accepted at the edge of the range', (value, expected) => {
    // Act
    const { crm } = loadConfig(['crm'], fullEnv({ CRM_BATCH_SIZE: value }));

    // Assess
    expect(crm.batchSize).toBe(expected);
  });

  it('CRM_MAX_REQUESTS_PER_SECOND takes a decimal, as the sizing formula gives (HubSpot 100 per 10 s x 0.95 / 2 = 4.75)', () => {
    expect(loadConfig(['crm'], fullEnv({ CRM_MAX_REQUESTS_PER_SECOND: '4.75' })).crm).toMatchObject({ maxRequestsPerSecond: 4.75, maxRequestsPerSecondExplicit: true });
  });

  it.each(['0', '0.05', '10001', 'fast', '-1', '4.'])('CRM_MAX_REQUESTS_PER_SECOND=%j is refused', (value) => {
    // Act
    const error = configErrorOf(['crm'], fullEnv({ CRM_MAX_REQUESTS_PER_SECOND: value }));

    // Assess
    expect(error.variables).toEqual(['CRM_MAX_REQUESTS_PER_SECOND']);
  });
});

describe('ROUTING_QUEUES', () => {
  it('keeps extra tiers next to standard', () => {
    // Act
    const { routing } = loadConfig(['routing'], fullEnv({ ROUTING_QUEUES: '{"standard":"q-std","diamond":"q-dia"}' }));

    // Assess
    expect(routing.queues).toEqual({ standard: 'q-std', diamond: 'q-dia' });
  });

  it('says so when it is not JSON', () => {
    // Act
    const error = configErrorOf(['routing'], fullEnv({ ROUTING_QUEUES: "{standard: 'q-std'}" }));

    // Assess
    expect(error.variables).toEqual(['ROUTING_QUEUES']);
    expect(error.message).toContain('ROUTING_QUEUES must be valid JSON');
  });

  it.each([
    ['without standard', '{"gold":"q-gold","platinum":"q-plat"}'],
    ['with a numeric queue id', '{"standard":"q-std","gold":42}'],
    ['with a numeric standard id', '{"standard":7}'],
    ['with an empty queue id', '{"standard":""}'],
    ['with a null queue id', '{"standard":"q-std","gold":null}'],
    ['with a nested object', '{"standard":{"id":"q-std"}}'],
    ['as an array', '["q-std"]'],
    ['as a string', '"q-std"'],
    ['as null', 'null'],
    ['as a number', '42'],
  ])('is refused %s', (_case, value) => {
    // Act
    const error = configErrorOf(['routing'], fullEnv({ ROUTING_QUEUES: value }));

    // Assess
    expect(error.variables).toEqual(['ROUTING_QUEUES']);
    expect(error.message).toContain('ROUTING_QUEUES must be a JSON object of tier -> queue id with at least "standard"');
  });
});

describe('one ConfigError for everything wrong', () => {
  it('names every offending variable, in the message and in `variables`', () => {
    // Prepare
    const env = fullEnv({
      GENESYS_REGION: undefined,
      GENESYS_CREDENTIALS_SECRET_ID: undefined,
      CRM_BASE_URL: 'crm.example.com',
      CRM_BATCH_SIZE: 'fifty',
      CRM_SYNC_QUEUE_URL: undefined,
      WEBHOOK_SECRET_ID: '',
      IDENTITY_SALT_SECRET_ID: undefined,
      ROUTING_QUEUES: '{"gold":"q-gold"}',
      WEB_DEPLOYMENT_ID: undefined,
      SECRET_CACHE_TTL_SECONDS: 'forever',
    });
    const expected = [
      'SECRET_CACHE_TTL_SECONDS',
      'GENESYS_REGION',
      'GENESYS_CREDENTIALS_SECRET_ID',
      'CRM_BASE_URL',
      'CRM_BATCH_SIZE',
      'CRM_SYNC_QUEUE_URL',
      'WEBHOOK_SECRET_ID',
      'IDENTITY_SALT_SECRET_ID',
      'ROUTING_QUEUES',
      'WEB_DEPLOYMENT_ID',
    ];

    // Act
    const error = configErrorOf(['genesys', 'crm', 'queue', 'webhook', 'identity', 'routing', 'widget'], env);

    // Assess
    expect(error.variables).toEqual(expect.arrayContaining(expected));
    expect(error.message).toMatch(/^Invalid configuration: /);
    for (const variable of expected) expect(error.message).toContain(variable);
  });

  it('names each variable once, however often its section is asked for', () => {
    // Prepare
    const env = fullEnv({ GENESYS_ORG_ID: undefined, WEB_DEPLOYMENT_ID: undefined });

    // Act
    const error = configErrorOf(['genesys', 'widget', 'widget'], env);

    // Assess
    expect(error.variables).toEqual(['WEB_DEPLOYMENT_ID', 'GENESYS_ORG_ID']);
    expect(error.message.match(/WEB_DEPLOYMENT_ID/g)).toHaveLength(1);
  });

  it('never puts a variable value in the message', () => {
    // Prepare
    const env = fullEnv({ CRM_BASE_URL: 'crm-with-token-s3cr3t', ROUTING_QUEUES: '{"standard": "queue-xyz", "gold": 1}' });

    // Act
    const error = configErrorOf(['crm', 'routing'], env);

    // Assess
    expect(error.message).not.toContain('s3cr3t');
    expect(error.message).not.toContain('queue-xyz');
  });
});

describe('only the requested sections are validated', () => {
  it.each<{ section: SectionName; present: Env }>([
    { section: 'webhook', present: { WEBHOOK_SECRET_ID: 'hook' } },
    { section: 'identity', present: { IDENTITY_SALT_SECRET_ID: 'salt' } },
    { section: 'queue', present: { CRM_SYNC_QUEUE_URL: 'http://127.0.0.1:9324/000000000000/crm-sync' } },
  ])('the $section section loads with nothing else configured', ({ section, present }) => {
    // Act
    const config = loadConfig([section], present);

    // Assess
    expect(Object.keys(config).sort()).toEqual(['runtime', section].sort());
  });

  it('a broken variable of an unrequested section goes unnoticed', () => {
    // Prepare
    const env = { WEBHOOK_SECRET_ID: 'hook', CRM_BATCH_SIZE: 'lots', ROUTING_QUEUES: 'not json', GENESYS_REGION: 'nope' };

    // Act
    const config = loadConfig(['webhook'], env);

    // Assess
    expect(config.webhook.secretId).toBe('hook');
  });
});

describe('GUEST_ATTRIBUTE_ALLOWLIST', () => {
  it.each<[string | undefined, string[]]>([
    [undefined, []],
    ['', []],
    ['customerId', ['customerId']],
    ['customerId,loyaltyTier,lastOrderDate', ['customerId', 'loyaltyTier', 'lastOrderDate']],
    [' customerId , loyaltyTier ,, ', ['customerId', 'loyaltyTier']],
    [',,,', []],
    ['CustomerId,customerId', ['CustomerId', 'customerId']],
  ])('%j becomes %j', (value, expected) => {
    // Act
    const { widget } = loadConfig(['widget'], fullEnv({ GUEST_ATTRIBUTE_ALLOWLIST: value }));

    // Assess
    expect(widget.guestAttributeAllowlist).toEqual(expected);
  });

  it('reports the Genesys region as the widget environment, or local without one', () => {
    // Act
    const deployed = loadConfig(['widget'], fullEnv({ GENESYS_REGION: 'usw2.pure.cloud' }));
    const local = loadConfig(['widget'], fullEnv({ GENESYS_REGION: undefined }));

    // Assess
    expect(deployed.widget.environment).toBe('usw2.pure.cloud');
    expect(local.widget.environment).toBe('local');
  });
});

describe('the environment it reads by default', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('is process.env', () => {
    // Prepare
    vi.stubEnv('WEBHOOK_SECRET_ID', 'from-process-env');

    // Act
    const config = loadConfig(['webhook']);

    // Assess
    expect(config.webhook.secretId).toBe('from-process-env');
  });
});

// The sections whose parsing had no test of its own: state, prefill, guests, the widget's
// deployment cache, and the worker's optional state table and control function.

/** What the CRM sync worker needs besides its optional settings. */
const WORKER: Env = {
  CRM_BASE_URL: 'https://crm.example.com/api',
  CRM_CREDENTIALS_SECRET_ID: 'genesys-guest-sync/prod/crm-credentials',
  CRM_SYNC_DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/genesys-guest-sync-prod-crm-sync-dlq',
};

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
