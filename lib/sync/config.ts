/**
 * The CRM sync worker's settings: the shared `crm` section (base URL, secret, batch size,
 * rate limit) plus what only the worker reads (the DLQ, the queue's maxReceiveCount and
 * the breaker's pause). Every offending variable is reported in one ConfigError.
 */
import { loadConfig, type CrmConfig } from '#lib/config';
import { ConfigError } from '#lib/errors';

/** Everything the worker is configured with. */
export interface SyncWorkerConfig {
  crm: CrmConfig;
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
  stateTableName?: string;
}

/** The control function's settings. */
export interface SyncControlConfig {
  /** The provider and its settings: the probe goes through the same adapter as the worker. */
  crm: CrmConfig;
  /** `CRM_SYNC_EVENT_SOURCE_MAPPING_ID`: the UUID of the worker's SQS event source mapping. */
  mappingId: string;
  /** `CRM_SYNC_PROBE_INTERVAL_SECONDS` (default 60) in ms: at most one probe per interval. */
  probeIntervalMs: number;
}

type Env = Record<string, string | undefined>;

const integer = (env: Env, name: string, fallback: number, min: number, max: number, problems: string[]): number => {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    problems.push(`${name} must be an integer from ${min} to ${max}`);
    return fallback;
  }
  return value;
};

/**
 * Reads the shared `crm` section and a function's own settings together, so one ConfigError
 * names every bad variable of both. `readOwn` pushes its problems onto the list it is given.
 */
function withCrmSection<T>(env: Env, readOwn: (own: string[]) => T): T & { crm: CrmConfig } {
  const problems: string[] = [];
  const variables: string[] = [];
  let crm: CrmConfig | undefined;
  try {
    crm = loadConfig(['crm'], env).crm;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(error.message.replace(/^Invalid configuration: /, ''));
    variables.push(...error.variables);
  }
  const own: string[] = [];
  const settings = readOwn(own);
  problems.push(...own);
  variables.push(...own.map((problem) => problem.split(' ')[0] ?? problem));
  if (problems.length > 0 || !crm) {
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`, [...new Set(variables)]);
  }
  return { ...settings, crm };
}

/** Reads and checks the worker's settings; throws one ConfigError naming every bad variable. */
export function loadSyncWorkerConfig(env: Env = process.env): SyncWorkerConfig {
  return withCrmSection(env, (own) => {
    const dlqUrl = env['CRM_SYNC_DLQ_URL']?.trim() ?? '';
    if (dlqUrl === '') own.push('CRM_SYNC_DLQ_URL is required');
    else if (!/^https?:\/\/\S+$/.test(dlqUrl)) own.push('CRM_SYNC_DLQ_URL must be an http(s) URL');
    const maxReceiveCount = integer(env, 'CRM_SYNC_MAX_RECEIVE_COUNT', 5, 1, 1000, own);
    const breakerHalfOpenSeconds = integer(env, 'CRM_BREAKER_HALF_OPEN_SECONDS', 30, 1, 3600, own);
    const probeIntervalSeconds = integer(env, 'CRM_SYNC_PROBE_INTERVAL_SECONDS', 60, 1, 3600, own);
    const controlFunctionName = env['CRM_SYNC_CONTROL_FUNCTION']?.trim() ?? '';
    if (controlFunctionName !== '' && !/^[A-Za-z0-9_:.-]{1,170}$/.test(controlFunctionName)) own.push('CRM_SYNC_CONTROL_FUNCTION must be a Lambda function name');
    const stateTableName = env['STATE_TABLE_NAME']?.trim() ?? '';
    if (stateTableName !== '' && !/^[A-Za-z0-9_.-]{3,255}$/.test(stateTableName)) own.push('STATE_TABLE_NAME must be a DynamoDB table name');
    return {
      ...(stateTableName ? { stateTableName } : {}),
      dlqUrl,
      maxReceiveCount,
      breakerHalfOpenMs: breakerHalfOpenSeconds * 1000,
      probeIntervalMs: probeIntervalSeconds * 1000,
      ...(controlFunctionName ? { controlFunctionName } : {}),
    };
  });
}

/** Reads and checks the control function's settings; throws one ConfigError naming every bad variable. */
export function loadSyncControlConfig(env: Env = process.env): SyncControlConfig {
  return withCrmSection(env, (own) => {
    const mappingId = env['CRM_SYNC_EVENT_SOURCE_MAPPING_ID']?.trim() ?? '';
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(mappingId)) {
      own.push("CRM_SYNC_EVENT_SOURCE_MAPPING_ID must be the UUID of the worker's event source mapping");
    }
    const probeIntervalSeconds = integer(env, 'CRM_SYNC_PROBE_INTERVAL_SECONDS', 60, 1, 3600, own);
    return { mappingId, probeIntervalMs: probeIntervalSeconds * 1000 };
  });
}
