/**
 * The configuration's sections (docs/api.md sections 7 and 8): one typed shape per concern,
 * each read from its own environment variables by `sections.ts`.
 */
import type { CrmProviderName } from '../crm/adapter.ts';

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

/**
 * The CRM sync worker's own settings (the `crm` section holds the provider, batch size and
 * rate limit): its DLQ, the queue's maxReceiveCount, the breaker's and the outage's pauses.
 */
export interface WorkerConfig {
  /** `CRM_SYNC_DLQ_URL`: where permanently failed messages go. */
  dlqUrl: string;
  /** `CRM_SYNC_MAX_RECEIVE_COUNT` (default 5): the queue's redrive maxReceiveCount. */
  maxReceiveCount: number;
  /** `CRM_BREAKER_HALF_OPEN_SECONDS` (default 30) in ms: how long an open breaker waits before a probe. */
  breakerHalfOpenMs: number;
  /** `CRM_SYNC_PROBE_INTERVAL_SECONDS` (default 60) in ms: how long an outage pauses the sync before a probe. */
  probeIntervalMs: number;
  /** `CRM_SYNC_CONTROL_FUNCTION`: the control function woken when an outage starts (none when empty). */
  controlFunctionName?: string;
  /**
   * `STATE_TABLE_NAME`: where the pause, the applied versions and the finished chunks live.
   * Deployed workers always have it; without it (a bare test set-up) the worker syncs with
   * no version or chunk guard and cannot pause.
   */
  state?: StateConfig;
}

/** The CRM sync control function's own settings (the probe goes through the `crm` section's adapter). */
export interface ControlConfig {
  /** `CRM_SYNC_EVENT_SOURCE_MAPPING_ID`: the UUID of the worker's SQS event source mapping. */
  mappingId: string;
  /** `CRM_SYNC_PROBE_INTERVAL_SECONDS` (default 60) in ms: at most one probe per interval. */
  probeIntervalMs: number;
}

/** The metrics report: where to deliver, how long a window, and (locally) which EMF file to read instead of CloudWatch. */
export interface ReportConfig {
  /** `REPORT_BUCKET`: the S3 bucket the report is written to (none when unset). */
  bucket: string | undefined;
  /** `REPORT_PREFIX` (default `metrics-reports/`), always ending in `/` when not empty. */
  prefix: string;
  /** `REPORT_WEBHOOK_URL`: https (or loopback http) URL the Slack summary is posted to. */
  webhookUrl: string | undefined;
  /** `REPORT_WINDOW_HOURS` (default 24). */
  windowHours: number;
  /** `REPORT_METRICS_FILE`, set by the local stack: read this EMF file instead of CloudWatch. */
  metricsFile: string | undefined;
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
  worker: WorkerConfig;
  control: ControlConfig;
  report: ReportConfig;
}

/** A section a function may ask for. */
export type SectionName = keyof Config;
