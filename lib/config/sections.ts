/**
 * How each section is read from the environment. Every reader pushes its problems onto the
 * shared Reader, so one ConfigError names every bad variable of the sections asked for.
 */
import { CRM_PROVIDERS, PROVIDER_BATCH_LIMITS, PROVIDER_REQUESTS_PER_SECOND, type CrmProviderName } from '../crm/adapter.ts';
import type { Reader } from './reader.ts';
import type { Config, RoutingConfig, SectionName } from './types.ts';

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

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Largest report window (REPORT_WINDOW_HOURS): CloudWatch keeps 1-minute data for 15 days; a week keeps queries small. */
export const MAX_REPORT_WINDOW_HOURS = 168;

/** The reader of each section. */
export const sections: { [K in SectionName]: (r: Reader) => Config[K] } = {
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
  worker: (r) => {
    const dlqUrl = r.optional('CRM_SYNC_DLQ_URL') ?? '';
    if (dlqUrl === '') r.problems.push('CRM_SYNC_DLQ_URL is required');
    else if (!/^https?:\/\/\S+$/.test(dlqUrl)) r.problems.push('CRM_SYNC_DLQ_URL must be an http(s) URL');
    const maxReceiveCount = r.integer('CRM_SYNC_MAX_RECEIVE_COUNT', 5, 1, 1000);
    const breakerHalfOpenSeconds = r.integer('CRM_BREAKER_HALF_OPEN_SECONDS', 30, 1, 3600);
    const probeIntervalSeconds = r.integer('CRM_SYNC_PROBE_INTERVAL_SECONDS', 60, 1, 3600);
    const controlFunctionName = r.optional('CRM_SYNC_CONTROL_FUNCTION') ?? '';
    if (controlFunctionName !== '' && !/^[A-Za-z0-9_:.-]{1,170}$/.test(controlFunctionName)) r.problems.push('CRM_SYNC_CONTROL_FUNCTION must be a Lambda function name');
    // Optional here, unlike the `state` section: a worker without a table still syncs.
    const tableName = r.optional('STATE_TABLE_NAME') ?? '';
    if (tableName !== '' && !/^[A-Za-z0-9_.-]{3,255}$/.test(tableName)) r.problems.push('STATE_TABLE_NAME must be a DynamoDB table name');
    return {
      ...(tableName ? { state: { tableName } } : {}),
      dlqUrl,
      maxReceiveCount,
      breakerHalfOpenMs: breakerHalfOpenSeconds * 1000,
      probeIntervalMs: probeIntervalSeconds * 1000,
      ...(controlFunctionName ? { controlFunctionName } : {}),
    };
  },
  control: (r) => {
    const mappingId = r.optional('CRM_SYNC_EVENT_SOURCE_MAPPING_ID') ?? '';
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(mappingId)) {
      r.problems.push("CRM_SYNC_EVENT_SOURCE_MAPPING_ID must be the UUID of the worker's event source mapping");
    }
    return { mappingId, probeIntervalMs: r.integer('CRM_SYNC_PROBE_INTERVAL_SECONDS', 60, 1, 3600) * 1000 };
  },
  report: (r) => {
    const bucket = r.optional('REPORT_BUCKET');
    if (bucket !== undefined && !BUCKET.test(bucket)) r.problems.push('REPORT_BUCKET must be an S3 bucket name');
    let prefix = r.optional('REPORT_PREFIX') ?? 'metrics-reports/';
    if (prefix.startsWith('/') || prefix.includes('*')) r.problems.push('REPORT_PREFIX must be a key prefix without a leading / or *');
    if (prefix !== '' && !prefix.endsWith('/')) prefix = `${prefix}/`;
    const webhookUrl = r.optional('REPORT_WEBHOOK_URL');
    if (webhookUrl !== undefined) {
      try {
        const url = new URL(webhookUrl);
        if (!(url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname)))) throw new Error('protocol');
      } catch {
        r.problems.push('REPORT_WEBHOOK_URL must be an https URL');
      }
    }
    const windowHours = r.integer('REPORT_WINDOW_HOURS', 24, 1, MAX_REPORT_WINDOW_HOURS);
    return { bucket, prefix, webhookUrl, windowHours, metricsFile: r.optional('REPORT_METRICS_FILE') };
  },
};
