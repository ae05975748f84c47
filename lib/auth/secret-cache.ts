/**
 * A per-container cache of JSON secrets from AWS Secrets Manager.
 *
 * Hand-written on purpose. Powertools Parameters' `SecretsProvider` (v2.35, checked) has
 * a TTL cache but:
 * - no single flight: concurrent cache misses each call GetSecretValue;
 * - its cache key is `[name, transform]`, which ignores `sdkOptions.VersionStage`, so
 *   AWSCURRENT and AWSPREVIOUS of one secret would overwrite each other;
 * - expiry uses `Date.now()` in whole seconds, with no injectable clock.
 * No maintained library adds single flight to it, so this file does caching, single
 * flight and JSON parsing itself on top of the SDK client.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsCall, awsRequestHandler } from '#lib/net';
import { SecretError } from './errors.ts';

/**
 * The version stages the suite reads: the current value, the previous one (still accepted
 * during a rotation) and the pending one (the value a rotation is installing upstream).
 */
export type VersionStage = 'AWSCURRENT' | 'AWSPREVIOUS' | 'AWSPENDING';

/** A parsed JSON secret string (always a JSON object). */
export type SecretValue = Readonly<Record<string, unknown>>;

/** How to read one secret. */
export interface GetSecretOptions {
  /** Defaults to `AWSCURRENT`. */
  versionStage?: VersionStage;
  /**
   * Skip the cache: the answer comes from a GetSecretValue call sent for this call (never
   * one already in flight); the read then refreshes the cache for everyone.
   */
  forceRefresh?: boolean;
}

/** How a `SecretCache` is built; every field has a production default. */
export interface SecretCacheOptions {
  /** Defaults to one client per container, shared by every cache. */
  client?: SecretsManagerClient;
  /** How long a value is trusted; default 5 minutes. 0 disables caching (not single flight). */
  ttlMs?: number;
  /** The clock, injectable for tests. */
  now?: () => number;
}

/** What one read found: a value, or that the secret / version stage does not exist. */
type Outcome = { found: true; value: SecretValue } | { found: false };

interface Entry {
  outcome: Outcome;
  expiresAt: number;
}

let moduleClient: SecretsManagerClient | undefined;

/** The longest one secret read may take, retries included. */
export const SECRET_READ_BUDGET_MS = 3_000;

/**
 * The container's one Secrets Manager client, reused while warm. No explicit endpoint or
 * region: the SDK reads `AWS_REGION` and `AWS_ENDPOINT_URL_SECRETS_MANAGER` (the local stack).
 */
export function defaultSecretsManagerClient(): SecretsManagerClient {
  // Bounded so a stalled Secrets Manager connection cannot hold a handler past its timeout.
  moduleClient ??= new SecretsManagerClient({ requestHandler: awsRequestHandler(2_000) });
  return moduleClient;
}

/** Drops the module's client so a test can change the environment it is built from. */
export function resetDefaultSecretsManagerClient(): void {
  moduleClient?.destroy();
  moduleClient = undefined;
}

/**
 * Reads JSON secrets once per TTL per (secret id, version stage); every concurrent caller
 * of a key shares one in-flight read, and failed reads are never cached.
 */
export class SecretCache {
  readonly #client: SecretsManagerClient;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  readonly #inFlight = new Map<string, Promise<Outcome>>();

  constructor(options: SecretCacheOptions = {}) {
    this.#client = options.client ?? defaultSecretsManagerClient();
    this.#ttlMs = Math.max(0, options.ttlMs ?? 300_000);
    this.#now = options.now ?? Date.now;
  }

  /** The secret as a JSON object; a missing secret or version stage is a `SecretError`. */
  async get(secretId: string, options: GetSecretOptions = {}): Promise<SecretValue> {
    const stage = options.versionStage ?? 'AWSCURRENT';
    // A remembered absence is only trusted by getOptional: a required read re-checks.
    const outcome = await this.#read(secretId, stage, options.forceRefresh === true, true);
    if (!outcome.found) {
      throw new SecretError(`Secret "${secretId}" has no ${stage} version`, secretId, 'not_found');
    }
    return outcome.value;
  }

  /**
   * Like `get`, but `undefined` when the secret or version stage does not exist (the usual
   * state of AWSPREVIOUS before the first rotation). The absence is cached for the TTL so
   * webhook verification does not call Secrets Manager on every request.
   */
  async getOptional(secretId: string, options: GetSecretOptions = {}): Promise<SecretValue | undefined> {
    const stage = options.versionStage ?? 'AWSCURRENT';
    const outcome = await this.#read(secretId, stage, options.forceRefresh === true, false);
    return outcome.found ? outcome.value : undefined;
  }

  /** Forgets cached values (of one secret, or all) so the next read goes to Secrets Manager. */
  invalidate(secretId?: string): void {
    for (const map of [this.#entries, this.#inFlight] as const) {
      for (const key of [...map.keys()]) {
        if (secretId === undefined || key.startsWith(`${secretId}\u0000`)) map.delete(key);
      }
    }
  }

  async #read(secretId: string, stage: VersionStage, force: boolean, requireFound: boolean): Promise<Outcome> {
    const key = `${secretId}\u0000${stage}`;
    if (!force) {
      const entry = this.#entries.get(key);
      if (entry && this.#now() < entry.expiresAt && (entry.outcome.found || !requireFound)) {
        return entry.outcome;
      }
    }
    // A forced read follows a refusal of the value the caller holds, so it is always a new
    // GetSecretValue call: joining one sent earlier could hand the caller the very value
    // that was refused (sent before the rotation it is trying to see). Callers that share
    // one re-read (a burst of 401s) are single-flighted by the token providers above this.
    const pending = this.#inFlight.get(key);
    if (pending && !force) return pending;

    const flight = this.#fetch(secretId, stage).then(
      (outcome) => {
        // Only the flight still registered may fill the cache: invalidate() detaches it,
        // and so does a forced read started after it.
        if (this.#inFlight.get(key) === flight) {
          this.#inFlight.delete(key);
          if (this.#ttlMs > 0) this.#entries.set(key, { outcome, expiresAt: this.#now() + this.#ttlMs });
        }
        return outcome;
      },
      (error: unknown) => {
        if (this.#inFlight.get(key) === flight) this.#inFlight.delete(key);
        throw error;
      },
    );
    this.#inFlight.set(key, flight);
    return flight;
  }

  async #fetch(secretId: string, stage: VersionStage): Promise<Outcome> {
    let secretString: string | undefined;
    try {
      // The whole read, retries included, under one deadline: a stalled endpoint fails fast.
      const result = await awsCall(SECRET_READ_BUDGET_MS, (o) =>
        this.#client.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage }), o),
      );
      secretString = result.SecretString;
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException') return { found: false };
      throw new SecretError(
        `Could not read secret "${secretId}" (${stage}) from Secrets Manager: ${errorName(error) ?? 'unknown error'}`,
        secretId,
        'read_failed',
        { cause: error },
      );
    }
    return { found: true, value: parseSecretObject(secretId, stage, secretString) };
  }
}

/**
 * Parses a secret string as a JSON object. The SyntaxError is deliberately dropped (not
 * even kept as `cause`): its message quotes the input, i.e. the secret.
 */
function parseSecretObject(secretId: string, stage: VersionStage, secretString: string | undefined): SecretValue {
  if (secretString === undefined) {
    throw new SecretError(`Secret "${secretId}" (${stage}) has no SecretString`, secretId, 'malformed');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    throw new SecretError(`Secret "${secretId}" (${stage}) is not valid JSON`, secretId, 'malformed');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SecretError(`Secret "${secretId}" (${stage}) must be a JSON object`, secretId, 'malformed');
  }
  return Object.freeze({ ...(parsed as Record<string, unknown>) });
}

/**
 * Reads one key of a secret that must be a non-empty string. The error names the secret
 * id and the key, never a value.
 */
export function requireSecretString(secret: SecretValue, secretId: string, key: string): string {
  const value = secret[key];
  if (typeof value !== 'string' || value.trim() === '') {
    throw new SecretError(
      `Secret "${secretId}" must have a non-empty string "${key}"`,
      secretId,
      'missing_key',
      { key },
    );
  }
  return value;
}

function errorName(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'name' in error && typeof error.name === 'string') {
    return error.name;
  }
  return undefined;
}
