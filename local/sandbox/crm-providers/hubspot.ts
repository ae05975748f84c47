/**
 * A HubSpot stand-in that behaves as HubSpot documents (not as our client expects):
 * - batch upsert of contacts by a unique property ("Create or update a batch of contacts
 *   by unique property values"): at most 100 inputs (101 is a 400), a duplicate id rejects
 *   the whole call, without `objectWriteTraceId` one invalid input rejects the whole batch,
 *   with it a 207 lists per-input errors under `errors[].context.objectWriteTraceId`, a body
 *   without `inputs` answers 200 and writes nothing, results are not in request order;
 * - rate limits ("API usage guidelines and limits"): 100 (starter) or 190 (professional)
 *   requests per rolling 10 s and a daily quota that resets at midnight (UTC here), the
 *   `X-HubSpot-RateLimit-*` headers on every answer, 429 bodies with `policyName`
 *   `TEN_SECONDLY_ROLLING` or `DAILY`;
 * - batch read of contacts by a unique property ("Read a batch of contacts by internal ID,
 *   or unique property values"): at most 100 inputs, the contacts found with the properties
 *   asked for (as strings, null when unset), 207 listing the ids not found (OBJECT_NOT_FOUND);
 * - CRM search ("CRM search"): its own limit of 5 requests per second with its own 429, and
 *   a lag before a new or changed record is found;
 * - the private app token: a revoked or rotated token is a 401 (`EXPIRED_AUTHENTICATION`),
 *   a missing scope a 403 (`MISSING_SCOPES`).
 */
import { randomInt } from 'node:crypto';
import { HttpError, controlRoute, type RouteDef, type SandboxReply } from '../server.ts';
import { FixedWindowRateLimiter, isPlainObject } from '../util.ts';
import { ProviderSandboxCore, bearerOf, configRoute, sandboxHandle, type ProviderSandboxBaseOptions, type ProviderSandboxHandle, type ProviderSandboxState } from './base.ts';
import { positiveInteger, samePhone } from './store.ts';

/** HubSpot's batch maximum. */
export const HUBSPOT_MAX_INPUTS = 100;

/** Scopes the contacts calls need. */
export const HUBSPOT_SCOPES = { read: 'crm.objects.contacts.read', write: 'crm.objects.contacts.write' } as const;

/** Options of the HubSpot sandbox. */
export interface HubSpotSandboxOptions extends ProviderSandboxBaseOptions {
  /** The private app token callers must send. */
  accessToken: string;
  /** 100 requests per 10 s (starter, default) or 190 (professional). */
  tier?: 'starter' | 'professional';
  /** Requests per day (default 250,000). */
  dailyLimit?: number;
  /** Search requests per second (default 5). */
  searchPerSecond?: number;
  /** Delay before a write is found by search (default 1,000 ms). */
  searchLagMs?: number;
  /** The unique custom property records are keyed by (default `guest_sync_external_id`). */
  idProperty?: string;
  /** Property carrying `sourceUpdatedAt` (for the write history; default `guest_sync_source_updated_at`). */
  sourceProperty?: string;
  grantedScopes?: string[];
  /** Contacts present from the start (HubSpot property names, e.g. email, phone, firstname). */
  customers?: Array<Record<string, unknown>>;
}

/** What `GET /__sandbox/state` shows. */
export type HubSpotSandboxState = ProviderSandboxState<{
  tier: 'starter' | 'professional';
  tenSecondLimit: number;
  dailyLimit: number;
  dailyUsed: number;
  searchLagMs: number;
  grantedScopes: string[];
}>;

/** A running HubSpot sandbox. */
export interface HubSpotSandbox extends ProviderSandboxHandle<HubSpotSandboxState> {
  /** Replaces the valid token; the old one answers 401 EXPIRED_AUTHENTICATION. */
  rotateToken(accessToken: string): void;
  /** The current token expires (401) until a new one is set. */
  expireToken(): void;
  setScopes(scopes: string[]): void;
}

const TEN_SECONDS = 10_000;
const DAY = 86_400_000;

function hubspotError(status: number, category: string, message: string, extra: Record<string, unknown> = {}): SandboxReply {
  return { status, body: { status: 'error', message, correlationId: crypto.randomUUID(), category, ...extra } };
}

/** Starts the HubSpot sandbox on 127.0.0.1. */
export async function startHubSpotSandbox(options: HubSpotSandboxOptions): Promise<HubSpotSandbox> {
  let nextId = 0;
  const core = new ProviderSandboxCore(options, () => String(51_000 + ++nextId * 7 + randomInt(7)));
  const { clock } = core;
  const idProperty = options.idProperty ?? 'guest_sync_external_id';
  const sourceProperty = options.sourceProperty ?? 'guest_sync_source_updated_at';
  let token = options.accessToken;
  let expired = new Set<string>();
  let tier = options.tier ?? 'starter';
  let dailyLimit = options.dailyLimit ?? 250_000;
  let searchLagMs = options.searchLagMs ?? 1_000;
  let scopes = options.grantedScopes ?? [HUBSPOT_SCOPES.read, HUBSPOT_SCOPES.write];
  let window: number[] = [];
  let day = -1;
  let dailyUsed = 0;
  const searchLimiter = new FixedWindowRateLimiter(clock, options.searchPerSecond ?? 5);

  const tenSecondLimit = (): number => (tier === 'professional' ? 190 : 100);

  const reset = (): void => {
    core.reset();
    token = options.accessToken;
    expired = new Set();
    tier = options.tier ?? 'starter';
    dailyLimit = options.dailyLimit ?? 250_000;
    searchLagMs = options.searchLagMs ?? 1_000;
    scopes = options.grantedScopes ?? [HUBSPOT_SCOPES.read, HUBSPOT_SCOPES.write];
    window = [];
    day = -1;
    dailyUsed = 0;
    searchLimiter.setLimit(options.searchPerSecond ?? 5);
  };

  const rollDay = (): void => {
    const today = Math.floor(clock.now() / DAY);
    if (today !== day) {
      day = today;
      dailyUsed = 0;
    }
  };
  const liveWindow = (): number[] => {
    const since = clock.now() - TEN_SECONDS;
    window = window.filter((at) => at > since);
    return window;
  };

  const missingScope = (scope: string): SandboxReply | undefined =>
    scopes.includes(scope)
      ? undefined
      : hubspotError(403, 'MISSING_SCOPES', "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.", {
          errors: [{ message: 'One or more of the following scopes are required.', context: { requiredGranularScopes: [scope] } }],
        });

  /** Why one input cannot be written, or undefined. */
  const inputProblem = (input: Record<string, unknown>): { code: string; message: string } | undefined => {
    if (typeof input.id !== 'string' || input.id === '') return { code: 'VALIDATION_ERROR', message: 'id is required' };
    if (!isPlainObject(input.properties)) return { code: 'VALIDATION_ERROR', message: 'properties must be an object' };
    for (const [name, value] of Object.entries(input.properties)) {
      if (!/^[a-z][a-z0-9_]*$/.test(name)) return { code: 'PROPERTY_DOESNT_EXIST', message: `Property "${name}" does not exist` };
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        return { code: 'INVALID_OPTION', message: `Property "${name}" must be a string, number or boolean` };
      }
    }
    const rule = core.takeFailure(input.id, false);
    if (rule) return { code: rule.code, message: rule.message ?? `Property values were not valid (${rule.code})` };
    return undefined;
  };

  const upsert = (body: unknown): SandboxReply => {
    const startedAt = new Date(clock.now()).toISOString();
    if (!isPlainObject(body) || !Array.isArray(body.inputs)) {
      // Documented quirk: a body HubSpot cannot read as inputs is answered 2xx, nothing written.
      return { status: 200, body: { status: 'COMPLETE', results: [], startedAt, completedAt: startedAt } };
    }
    const inputs = body.inputs as unknown[];
    if (inputs.length > HUBSPOT_MAX_INPUTS) {
      return hubspotError(400, 'VALIDATION_ERROR', `Batch input cannot contain more than ${HUBSPOT_MAX_INPUTS} inputs. Received ${inputs.length}.`);
    }
    const objects = inputs.map((raw) => (isPlainObject(raw) ? raw : {}));
    for (const input of objects) {
      if (input.idProperty !== idProperty && input.idProperty !== 'email') {
        return hubspotError(400, 'VALIDATION_ERROR', `Property "${String(input.idProperty)}" is not a unique identifier property`);
      }
    }
    const ids = objects.map((input) => input.id);
    const duplicates = [...new Set(ids.filter((id, index) => ids.indexOf(id) !== index))];
    if (duplicates.length > 0) {
      return hubspotError(400, 'VALIDATION_ERROR', `Duplicate IDs found in batch input: [${duplicates.join(', ')}]. IDs must be unique`);
    }
    const problems = objects.map(inputProblem);
    const traced = objects.every((input) => typeof input.objectWriteTraceId === 'string' && input.objectWriteTraceId !== '');
    if (problems.some(Boolean) && !traced) {
      const first = problems.find(Boolean) as { code: string; message: string };
      return hubspotError(400, 'VALIDATION_ERROR', `Property values were not valid: ${first.message}`);
    }
    const results: unknown[] = [];
    const errors: unknown[] = [];
    objects.forEach((input, index) => {
      const problem = problems[index];
      if (problem) {
        core.takeFailure(input.id as string);
        errors.push({
          status: 'error',
          category: 'VALIDATION_ERROR',
          message: problem.message,
          context: { objectWriteTraceId: [input.objectWriteTraceId] },
          errors: [{ message: problem.message, code: problem.code }],
        });
        return;
      }
      const properties = { ...(input.properties as Record<string, unknown>), [input.idProperty as string]: input.id };
      const stringified = Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, String(v)]));
      const { record, created } = core.write(input.id as string, stringified, sourceProperty, searchLagMs);
      results.push({
        id: record.id,
        properties: { ...stringified, hs_object_id: record.id },
        createdAt: record.createdAt,
        updatedAt: record.updatedAt,
        archived: false,
        new: created,
        ...(typeof input.objectWriteTraceId === 'string' ? { objectWriteTraceId: input.objectWriteTraceId } : {}),
      });
    });
    // HubSpot does not promise results in request order; hand them back reversed.
    results.reverse();
    const completedAt = new Date(clock.now()).toISOString();
    if (errors.length > 0) {
      return { status: 207, body: { status: 'COMPLETE', results, numErrors: errors.length, errors, startedAt, completedAt } };
    }
    return { status: 200, body: { status: 'COMPLETE', results, startedAt, completedAt } };
  };

  const batchRead = (body: unknown): SandboxReply => {
    if (!isPlainObject(body) || !Array.isArray(body.inputs)) return hubspotError(400, 'VALIDATION_ERROR', 'inputs is required');
    if (body.inputs.length > HUBSPOT_MAX_INPUTS) {
      return hubspotError(400, 'VALIDATION_ERROR', `Batch input cannot contain more than ${HUBSPOT_MAX_INPUTS} inputs. Received ${body.inputs.length}.`);
    }
    const byProperty = body.idProperty !== undefined && body.idProperty !== 'hs_object_id';
    if (byProperty && body.idProperty !== idProperty) return hubspotError(400, 'VALIDATION_ERROR', `Property "${String(body.idProperty)}" is not a unique identifier property`);
    const startedAt = new Date(clock.now()).toISOString();
    const wanted = Array.isArray(body.properties) ? body.properties.filter((p): p is string => typeof p === 'string') : [];
    const ids = body.inputs.map((raw) => (isPlainObject(raw) && typeof raw.id === 'string' ? raw.id : ''));
    const found = ids.map((id) => (byProperty ? core.world.records.get(id) : core.records().find((record) => record.id === id)));
    const results = found.flatMap((record) =>
      record === undefined || record.externalId === undefined
        ? []
        : [
            {
              id: record.id,
              properties: { ...Object.fromEntries(wanted.map((name) => [name, record.fields[name] === undefined ? null : String(record.fields[name])])), hs_object_id: record.id },
              createdAt: record.createdAt,
              updatedAt: record.updatedAt,
              archived: false,
            },
          ],
    );
    const missing = ids.filter((_id, index) => found[index]?.externalId === undefined);
    const completedAt = new Date(clock.now()).toISOString();
    if (missing.length === 0) return { status: 200, body: { status: 'COMPLETE', results, startedAt, completedAt } };
    const error = { status: 'error', category: 'OBJECT_NOT_FOUND', message: 'Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.', context: { ids: missing } };
    return { status: 207, body: { status: 'COMPLETE', results, numErrors: 1, errors: [error], startedAt, completedAt } };
  };

  const search = (body: unknown): SandboxReply => {
    if (!searchLimiter.tryAcquire()) {
      return { status: 429, body: { status: 'error', message: 'You have reached your secondly limit.', errorType: 'RATE_LIMIT', correlationId: crypto.randomUUID(), policyName: 'SECONDLY' } };
    }
    if (!isPlainObject(body) || !Array.isArray(body.filterGroups)) throw new HttpError(400, 'filterGroups is required');
    const groups = body.filterGroups.map((group) => (isPlainObject(group) && Array.isArray(group.filters) ? group.filters.filter(isPlainObject) : []));
    const now = clock.now();
    const matches = core.records().filter((record) => {
      if (record.searchableAt > now) return false;
      return groups.some((filters) =>
        filters.length > 0 &&
        filters.every((filter) => {
          if (filter.operator !== 'EQ' || typeof filter.propertyName !== 'string' || typeof filter.value !== 'string') return false;
          const stored = record.fields[filter.propertyName];
          if (filter.propertyName === 'phone' || filter.propertyName === 'mobilephone') return samePhone(stored, filter.value);
          return typeof stored === 'string' && stored.toLowerCase() === filter.value.toLowerCase();
        }),
      );
    });
    const wanted = Array.isArray(body.properties) ? body.properties.filter((p): p is string => typeof p === 'string') : [];
    const limit = typeof body.limit === 'number' ? body.limit : 10;
    return {
      status: 200,
      body: {
        total: matches.length,
        results: matches.slice(0, limit).map((record) => ({
          id: record.id,
          properties: { ...Object.fromEntries(wanted.map((name) => [name, record.fields[name] === undefined ? null : String(record.fields[name])])), hs_object_id: record.id },
          createdAt: record.createdAt,
          updatedAt: record.updatedAt,
          archived: false,
        })),
      },
    };
  };

  const routes: RouteDef[] = [
    {
      method: 'POST',
      path: '/crm/v3/objects/contacts/batch/upsert',
      operation: 'batchUpsertContacts',
      handler: (req) => missingScope(HUBSPOT_SCOPES.write) ?? upsert(req.json()),
    },
    {
      method: 'POST',
      path: '/crm/v3/objects/contacts/batch/read',
      operation: 'batchReadContacts',
      handler: (req) => missingScope(HUBSPOT_SCOPES.read) ?? batchRead(req.json()),
    },
    {
      method: 'POST',
      path: '/crm/v3/objects/contacts/search',
      operation: 'searchContacts',
      handler: (req) => missingScope(HUBSPOT_SCOPES.read) ?? search(req.json()),
    },
  ];

  const state = (): HubSpotSandboxState => {
    rollDay();
    return core.state({ tier, tenSecondLimit: tenSecondLimit(), dailyLimit, dailyUsed, searchLagMs, grantedScopes: scopes });
  };

  const rotateToken = (next: string): void => {
    expired.add(token);
    token = next;
  };
  const expireToken = (): void => {
    expired.add(token);
  };

  const server = await core.start(options.port, state, reset, {
    routes,
    controlRoutes: [
      configRoute((body) => {
        if (body.tier !== undefined) {
          if (body.tier !== 'starter' && body.tier !== 'professional') throw new HttpError(400, 'tier must be "starter" or "professional"');
          tier = body.tier;
        }
        dailyLimit = positiveInteger(body, 'dailyLimit') ?? dailyLimit;
        searchLagMs = positiveInteger(body, 'searchLagMs') ?? searchLagMs;
        if (body.grantedScopes !== undefined) {
          if (!Array.isArray(body.grantedScopes) || !body.grantedScopes.every((s) => typeof s === 'string')) throw new HttpError(400, 'grantedScopes must be strings');
          scopes = body.grantedScopes as string[];
        }
      }, () => state().config),
      controlRoute('PUT', '/__sandbox/token', (req) => {
        const body = req.json();
        if (!isPlainObject(body) || typeof body.accessToken !== 'string' || body.accessToken === '') throw new HttpError(400, 'accessToken must be a non-empty string');
        rotateToken(body.accessToken);
        return { status: 204 };
      }),
      controlRoute('POST', '/__sandbox/token/expire', () => {
        expireToken();
        return { status: 204 };
      }),
    ],
    errorReply: (status, message) => hubspotError(status, status === 400 ? 'VALIDATION_ERROR' : 'ERROR', message),
    commonHeaders: () => {
      rollDay();
      return {
        'x-hubspot-ratelimit-interval-milliseconds': String(TEN_SECONDS),
        'x-hubspot-ratelimit-max': String(tenSecondLimit()),
        'x-hubspot-ratelimit-remaining': String(Math.max(0, tenSecondLimit() - liveWindow().length)),
        'x-hubspot-ratelimit-daily': String(dailyLimit),
        'x-hubspot-ratelimit-daily-remaining': String(Math.max(0, dailyLimit - dailyUsed)),
      };
    },
    guard: (req): SandboxReply | undefined => {
      const bearer = bearerOf(req);
      if (bearer === undefined || bearer !== token || expired.has(bearer)) {
        const known = bearer !== undefined && expired.has(bearer);
        return hubspotError(
          401,
          known ? 'EXPIRED_AUTHENTICATION' : 'INVALID_AUTHENTICATION',
          known ? 'The OAuth token used to make this call expired.' : 'Authentication credentials not found. This API supports OAuth 2.0 authentication.',
        );
      }
      rollDay();
      if (dailyUsed >= dailyLimit) {
        return { status: 429, body: { status: 'error', message: 'You have reached your daily limit.', errorType: 'RATE_LIMIT', correlationId: crypto.randomUUID(), policyName: 'DAILY' } };
      }
      if (liveWindow().length >= tenSecondLimit()) {
        return { status: 429, body: { status: 'error', message: 'You have reached your ten_secondly_rolling limit.', errorType: 'RATE_LIMIT', correlationId: crypto.randomUUID(), policyName: 'TEN_SECONDLY_ROLLING' } };
      }
      window.push(clock.now());
      dailyUsed += 1;
      return undefined;
    },
  });

  return {
    ...sandboxHandle(server, core, state, reset),
    rotateToken,
    expireToken,
    setScopes: (next) => {
      scopes = [...next];
    },
  };
}
