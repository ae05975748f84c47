/**
 * Typed, validated configuration from the environment (docs/api.md sections 7 and 8).
 * A function asks only for the sections it uses; every offending variable of those
 * sections is reported in one ConfigError at cold start.
 */
import { ConfigError } from '#lib/errors';
import { CRM_PROVIDERS, PROVIDER_BATCH_LIMITS, PROVIDER_REQUESTS_PER_SECOND, type CrmProviderName } from '../crm/adapter.ts';

type Env = Record<string, string | undefined>;

/** Genesys Cloud hosts and the credentials secret. */
export interface GenesysConfig {
  region: string;
  apiBaseUrl: string;
  loginBaseUrl: string;
  credentialsSecretId: string;
  organizationId: string | undefined;
}

/** The CRM provider, its endpoint and settings, its secret and the worker's batching and rate settings. */
export interface CrmConfig {
  /** `CRM_PROVIDER` (default `rest`). */
  provider: CrmProviderName;
  /** `CRM_BASE_URL`: required for `rest`; for the others it overrides the provider's own API host ('' when unset). */
  baseUrl: string;
  /** `CRM_TOKEN_URL`: overrides the Salesforce / identity platform token endpoint. */
  tokenUrl?: string;
  /** `HUBSPOT_ID_PROPERTY` (required for `hubspot`). */
  hubspotIdProperty?: string;
  /** `HUBSPOT_TIME_ZONE`: the HubSpot account's time zone (IANA name), where its daily quota resets at midnight; UTC when unset. */
  hubspotTimeZone?: string;
  /** `SALESFORCE_EXTERNAL_ID_FIELD` (required for `salesforce`). */
  salesforceExternalIdField?: string;
  /** `DYNAMICS_URL` and `DYNAMICS_ALTERNATE_KEY` (required for `dynamics`). */
  dynamicsUrl?: string;
  dynamicsAlternateKey?: string;
  credentialsSecretId: string;
  /** `CRM_BATCH_SIZE`: defaults to the provider's batch maximum and never exceeds it. */
  batchSize: number;
  /** `CRM_MAX_REQUESTS_PER_SECOND` per worker container, else the provider's default (docs/crm-budgets.md). */
  maxRequestsPerSecond: number;
  /** True when `CRM_MAX_REQUESTS_PER_SECOND` is set: then a ceiling the provider's higher tier never lifts. */
  maxRequestsPerSecondExplicit: boolean;
}

/** The CRM sync queue and its dead-letter queue. */
export interface QueueConfig {
  queueUrl: string;
  dlqUrl: string | undefined;
}

/** The webhook signing secret. */
export interface WebhookConfig {
  secretId: string;
}

/** The salt used to hash identifiers. */
export interface IdentityConfig {
  saltSecretId: string;
}

/** Queue ids by loyalty tier; `standard` is always present. */
export interface RoutingConfig {
  queues: Record<string, string> & { standard: string };
}

/** The widget's web deployment and which attributes it may show. */
export interface WidgetConfig {
  webDeploymentId: string;
  /** How long an Active deployment is trusted without asking Genesys again. */
  deploymentCacheTtlMs: number;
  organizationId: string;
  environment: string;
  guestAttributeAllowlist: string[];
}

/** The suite's DynamoDB state table. */
export interface StateConfig {
  tableName: string;
}

/** Prepared sessions (docs/api.md section 2): how long a prepared session is kept. */
export interface PrefillConfig {
  ttlSeconds: number;
}

/** Guests as Genesys external contacts (docs/api.md section 2) and their engagement metrics. */
export interface GuestsConfig {
  /** The external source the identity hashes are `externalIds` under. */
  externalSourceId: string;
  /** The contact schema whose `customFields` hold consent, channel context and attributes. */
  contactSchemaId: string;
  /** Days of analytics conversation details the metrics cover. */
  metricsDays: number;
}

/** Settings every function shares. */
export interface RuntimeConfig {
  stage: string;
  version: string;
  secretCacheTtlMs: number;
}

/** The whole configuration, by section. */
export interface Config {
  runtime: RuntimeConfig;
  genesys: GenesysConfig;
  crm: CrmConfig;
  queue: QueueConfig;
  webhook: WebhookConfig;
  identity: IdentityConfig;
  routing: RoutingConfig;
  widget: WidgetConfig;
  state: StateConfig;
  prefill: PrefillConfig;
  guests: GuestsConfig;
}

export type SectionName = keyof Config;

/** Collects problems while reading variables, so all of them are reported at once. */
class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  private raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  required(name: string): string {
    const value = this.raw(name);
    if (value === undefined) this.problems.push(`${name} is required`);
    return value ?? '';
  }

  optional(name: string): string | undefined {
    return this.raw(name);
  }

  url(name: string, fallback?: string): string {
    const value = this.raw(name) ?? fallback;
    if (value === undefined) {
      this.problems.push(`${name} is required`);
      return '';
    }
    try {
      const parsed = new URL(value);
      if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error('protocol');
    } catch {
      this.problems.push(`${name} must be an http(s) URL`);
      return '';
    }
    return value.replace(/\/+$/, '');
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!/^-?\d+$/.test(value) || parsed < min || parsed > max) {
      this.problems.push(`${name} must be an integer from ${min} to ${max}`);
      return fallback;
    }
    return parsed;
  }

  /** A decimal number (`4.75`) within [min, max], or the fallback when unset. */
  decimal(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!/^\d+(\.\d+)?$/.test(value) || parsed < min || parsed > max) {
      this.problems.push(`${name} must be a number from ${min} to ${max}`);
      return fallback;
    }
    return parsed;
  }

  json(name: string): unknown {
    const value = this.required(name);
    if (value === '') return undefined;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      this.problems.push(`${name} must be valid JSON`);
      return undefined;
    }
  }
}

/** Whether `name` is a time zone the runtime knows (IANA names such as `Europe/Paris`). */
function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const GENESYS_REGION = /^[a-z0-9]+(?:[.-][a-z0-9]+)*\.[a-z]{2,}$/;

const sections: { [K in SectionName]: (r: Reader) => Config[K] } = {
  runtime: (r) => ({
    stage: r.optional('STAGE') ?? 'local',
    version: r.optional('SERVICE_VERSION') ?? '0.0.0',
    secretCacheTtlMs: r.integer('SECRET_CACHE_TTL_SECONDS', 300, 0, 86_400) * 1000,
  }),
  genesys: (r) => {
    const region = r.optional('GENESYS_REGION');
    const apiOverride = r.optional('GENESYS_API_BASE_URL');
    const loginOverride = r.optional('GENESYS_LOGIN_BASE_URL');
    let regionValid = false;
    if (region === undefined) {
      if (apiOverride === undefined || loginOverride === undefined) {
        r.problems.push('GENESYS_REGION is required (or both GENESYS_API_BASE_URL and GENESYS_LOGIN_BASE_URL)');
      }
      if (apiOverride === undefined && loginOverride !== undefined) {
        r.problems.push('GENESYS_API_BASE_URL is required when GENESYS_LOGIN_BASE_URL is set without GENESYS_REGION');
      }
      if (loginOverride === undefined && apiOverride !== undefined) {
        r.problems.push('GENESYS_LOGIN_BASE_URL is required when GENESYS_API_BASE_URL is set without GENESYS_REGION');
      }
    } else if (!GENESYS_REGION.test(region)) {
      r.problems.push('GENESYS_REGION must be a host suffix such as mypurecloud.com');
    } else {
      regionValid = true;
    }
    // A base URL is checked when it is set, or derived from a valid region; a region
    // problem already reported is not reported again as missing URLs.
    const host = (name: string, override: string | undefined, prefix: string): string =>
      override !== undefined ? r.url(name) : regionValid ? `https://${prefix}.${region}` : '';
    return {
      region: region ?? '',
      apiBaseUrl: host('GENESYS_API_BASE_URL', apiOverride, 'api'),
      loginBaseUrl: host('GENESYS_LOGIN_BASE_URL', loginOverride, 'login'),
      credentialsSecretId: r.required('GENESYS_CREDENTIALS_SECRET_ID'),
      organizationId: r.optional('GENESYS_ORG_ID'),
    };
  },
  crm: (r) => {
    const named = r.optional('CRM_PROVIDER') ?? 'rest';
    const provider = (CRM_PROVIDERS as readonly string[]).includes(named) ? (named as CrmProviderName) : 'rest';
    if (provider !== named) r.problems.push(`CRM_PROVIDER must be one of ${CRM_PROVIDERS.join(', ')}`);
    const limit = PROVIDER_BATCH_LIMITS[provider];
    // Each provider's own settings are required only when it is the one chosen.
    const own = (name: string, of: CrmProviderName): string | undefined => (provider === of ? r.required(name) : r.optional(name));
    const optionalUrl = (name: string): string | undefined => (r.optional(name) === undefined ? undefined : r.url(name));
    const hubspotIdProperty = own('HUBSPOT_ID_PROPERTY', 'hubspot');
    if (provider === 'hubspot' && hubspotIdProperty?.toLowerCase() === 'email') r.problems.push('HUBSPOT_ID_PROPERTY must be a unique custom property, never email');
    const hubspotTimeZone = r.optional('HUBSPOT_TIME_ZONE');
    if (hubspotTimeZone !== undefined && !isTimeZone(hubspotTimeZone)) r.problems.push('HUBSPOT_TIME_ZONE must be an IANA time zone name (e.g. America/New_York)');
    const salesforceExternalIdField = own('SALESFORCE_EXTERNAL_ID_FIELD', 'salesforce');
    const dynamicsUrl = provider === 'dynamics' ? r.url('DYNAMICS_URL') : optionalUrl('DYNAMICS_URL');
    const dynamicsAlternateKey = own('DYNAMICS_ALTERNATE_KEY', 'dynamics');
    const tokenUrl = optionalUrl('CRM_TOKEN_URL');
    const present = <K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> =>
      value === undefined || value === '' ? {} : ({ [key]: value } as Record<K, string>);
    return {
      provider,
      baseUrl: provider === 'rest' ? r.url('CRM_BASE_URL') : (optionalUrl('CRM_BASE_URL') ?? ''),
      ...present('tokenUrl', tokenUrl),
      ...present('hubspotIdProperty', hubspotIdProperty),
      ...present('hubspotTimeZone', hubspotTimeZone),
      ...present('salesforceExternalIdField', salesforceExternalIdField),
      ...present('dynamicsUrl', dynamicsUrl),
      ...present('dynamicsAlternateKey', dynamicsAlternateKey),
      credentialsSecretId: r.required('CRM_CREDENTIALS_SECRET_ID'),
      batchSize: r.integer('CRM_BATCH_SIZE', limit, 1, limit),
      maxRequestsPerSecond: r.decimal('CRM_MAX_REQUESTS_PER_SECOND', PROVIDER_REQUESTS_PER_SECOND[provider], 0.1, 10_000),
      maxRequestsPerSecondExplicit: r.optional('CRM_MAX_REQUESTS_PER_SECOND') !== undefined,
    };
  },
  queue: (r) => ({
    queueUrl: r.url('CRM_SYNC_QUEUE_URL'),
    dlqUrl: r.optional('CRM_SYNC_DLQ_URL') === undefined ? undefined : r.url('CRM_SYNC_DLQ_URL'),
  }),
  webhook: (r) => ({ secretId: r.required('WEBHOOK_SECRET_ID') }),
  identity: (r) => ({ saltSecretId: r.required('IDENTITY_SALT_SECRET_ID') }),
  routing: (r) => {
    const parsed = r.json('ROUTING_QUEUES');
    if (parsed === undefined) return { queues: { standard: '' } };
    const valid =
      typeof parsed === 'object' &&
      parsed !== null &&
      !Array.isArray(parsed) &&
      Object.values(parsed).every((v) => typeof v === 'string' && v.length > 0) &&
      typeof (parsed as Record<string, unknown>)['standard'] === 'string';
    if (!valid) {
      r.problems.push('ROUTING_QUEUES must be a JSON object of tier -> queue id with at least "standard"');
      return { queues: { standard: '' } };
    }
    return { queues: parsed as RoutingConfig['queues'] };
  },
  state: (r) => {
    const tableName = r.required('STATE_TABLE_NAME');
    if (tableName !== '' && !/^[A-Za-z0-9_.-]{3,255}$/.test(tableName)) {
      r.problems.push('STATE_TABLE_NAME must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)');
    }
    return { tableName };
  },
  prefill: (r) => ({ ttlSeconds: r.integer('PREFILL_TTL_SECONDS', 1800, 60, 86_400) }),
  guests: (r) => ({
    externalSourceId: r.required('GUEST_EXTERNAL_SOURCE_ID'),
    contactSchemaId: r.required('GUEST_CONTACT_SCHEMA_ID'),
    metricsDays: r.integer('GUEST_METRICS_DAYS', 30, 1, 90),
  }),
  widget: (r) => ({
    webDeploymentId: r.required('WEB_DEPLOYMENT_ID'),
    deploymentCacheTtlMs: r.integer('WEB_DEPLOYMENT_CACHE_SECONDS', 300, 0, 3600) * 1000,
    organizationId: r.required('GENESYS_ORG_ID'),
    environment: r.optional('GENESYS_REGION') ?? 'local',
    guestAttributeAllowlist: (r.optional('GUEST_ATTRIBUTE_ALLOWLIST') ?? '')
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name.length > 0),
  }),
};

/**
 * Reads and validates the named sections (plus `runtime`, always). Throws one
 * ConfigError naming every offending variable.
 */
export function loadConfig<K extends SectionName>(
  names: readonly K[],
  env: Env = process.env,
): Pick<Config, K | 'runtime'> {
  const reader = new Reader(env);
  const result: Partial<Config> = {};
  for (const name of new Set<SectionName>(['runtime', ...names])) {
    (result as Record<string, unknown>)[name] = sections[name](reader);
  }
  if (reader.problems.length > 0) {
    const variables = [...new Set(reader.problems.map((p) => p.split(' ')[0] ?? p))];
    throw new ConfigError(`Invalid configuration: ${reader.problems.join('; ')}`, variables);
  }
  return result as Pick<Config, K | 'runtime'>;
}
