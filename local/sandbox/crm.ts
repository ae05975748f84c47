/**
 * Sandbox CRM (docs/api.md section 6): customer lookup and an idempotent batch upsert with
 * last-writer-wins records, per-record failure injection, fault injection, rate limiting
 * and a state view that lets tests prove nothing was applied twice.
 */
import { STATUS_CODES } from 'node:http';
import { randomUUID } from 'node:crypto';
import { FaultEngine, type StoredFaultRule } from './faults.ts';
import {
  HttpError,
  applyRateLimitSetting,
  controlRoute,
  startSandboxServer,
  type RequestLogEntry,
  type RouteDef,
  type SandboxReply,
} from './server.ts';
import {
  FixedWindowRateLimiter,
  canonicalJson,
  createClock,
  findPii,
  fingerprint,
  isIsoDateTime,
  isPlainObject,
  type PiiFinding,
  type SandboxClock,
} from './util.ts';
import { logRequest, parseRecordFailureRule, takeRecordFailure, type StoredRecordFailureRule } from './crm-world.ts';

/** Most records one batch-upsert request may carry. */
export const CRM_MAX_BATCH_RECORDS = 500;

/** A customer as seeded; `email` and `phone` are only used for matching, never returned. */
export interface CrmCustomerSeed {
  id?: string;
  firstName?: string;
  lastName?: string;
  loyaltyTier?: string;
  accountStatus?: string;
  loyaltyPoints?: number;
  email?: string;
  phone?: string;
}

/** A customer as the lookup returns it. */
export interface CrmCustomer {
  id: string;
  firstName: string;
  lastName: string;
  loyaltyTier: string;
  accountStatus: string;
  loyaltyPoints: number;
}

/** A stored customer: the public view plus its matching keys. */
export interface CrmStoredCustomer extends CrmCustomer {
  email?: string;
  phone?: string;
}

/** A record of the batch upsert (docs/api.md section 5 `record`). */
export interface CrmRecord {
  externalId: string;
  emailHash?: string;
  phoneHash?: string;
  consentFlags?: Record<string, unknown>;
  attributes?: Record<string, unknown>;
  channelContext?: Record<string, unknown>;
  lastInteraction: string;
  sourceUpdatedAt: string;
}

/** One record's outcome, in request order. */
export interface CrmRecordResult {
  externalId: string;
  status: 'created' | 'updated' | 'unchanged' | 'failed';
  error?: { code: string; message: string };
}

export type { RecordFailureRule, StoredRecordFailureRule } from './crm-world.ts';

/** What the CRM holds for one external id. */
export interface CrmStoredRecord {
  record: CrmRecord;
  /** 1 after creation, +1 per update. */
  versions: number;
  /** Idempotency key of the request that last created or updated it. */
  lastKey: string;
  createdAt: string;
  updatedAt: string;
}

/** Bookkeeping of one idempotency key. */
export interface CrmIdempotencyEntry {
  state: 'inflight' | 'done';
  /** Times a request with this key was applied; anything above 1 is a duplicate. */
  applications: number;
  replays: number;
  firstSeenAt: string;
}

/** How a lookup that matches nothing answers. */
export type CustomerNotFoundMode = '404' | 'empty';

/** Options of `startCrmSandbox`. */
export interface CrmSandboxOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** The bearer token callers must send. */
  apiToken: string;
  /** Requests allowed per one-second window (default: unlimited). */
  rateLimitPerSecond?: number | null;
  /** Customers present from the start (and after every reset). */
  customers?: CrmCustomerSeed[];
  /** Lookup miss: 404 (default) or 200 `[]`. */
  customerNotFound?: CustomerNotFoundMode;
  /** Time source in epoch ms (default `Date.now`). */
  clock?: () => number;
  /** Request body cap (default 1 MiB; beyond: 413). */
  maxBodyBytes?: number;
}

/** Where plaintext-looking PII reached the CRM (values are never kept). */
export interface CrmPiiFinding extends PiiFinding {
  externalId: string;
}

/** Everything `GET /__sandbox/state` (and `state()`) shows. */
export interface CrmSandboxState {
  now: string;
  config: { rateLimitPerSecond: number | null; customerNotFound: CustomerNotFoundMode };
  customers: CrmStoredCustomer[];
  /** External id -> what is stored for it. */
  records: Record<string, CrmStoredRecord>;
  /** Idempotency key -> its bookkeeping. */
  idempotency: Record<string, CrmIdempotencyEntry>;
  /** Keys applied at least once. */
  appliedKeys: number;
  /** Keys applied more than once: always empty unless the sandbox is broken. */
  duplicateApplications: string[];
  /** Requests answered from the idempotency store without applying. */
  replays: number;
  /** Upstream requests by answered status (`"dropped"` for destroyed sockets). */
  requestsByStatus: Record<string, number>;
  recordFailureRules: StoredRecordFailureRule[];
  piiFindings: CrmPiiFinding[];
  faults: StoredFaultRule[];
  requests: RequestLogEntry[];
}

/** A running CRM sandbox. */
export interface CrmSandbox {
  /** Value for CRM_BASE_URL. */
  url: string;
  port: number;
  close(): Promise<void>;
  /** A deep copy of the current state. */
  state(): CrmSandboxState;
  /** Same as `POST /__sandbox/reset`. */
  reset(): void;
  /** The fault engine (same rules as `/__sandbox/faults`). */
  faults: FaultEngine;
  clock: SandboxClock;
}

const HASH_PATTERN = /^[a-f0-9]{64}$/i;

interface KeyEntry extends CrmIdempotencyEntry {
  fingerprint: string;
  reply?: unknown;
}

class World {
  customers = new Map<string, CrmStoredCustomer>();
  records = new Map<string, CrmStoredRecord>();
  keys = new Map<string, KeyEntry>();
  replays = 0;
  requestsByStatus: Record<string, number> = {};
  failureRules: StoredRecordFailureRule[] = [];
  piiFindings: CrmPiiFinding[] = [];
  log: RequestLogEntry[] = [];
}

function problem(status: number, detail: string): SandboxReply {
  return {
    status,
    contentType: 'application/problem+json',
    body: { type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, detail },
  };
}

function requireObject(value: unknown, what: string): Record<string, unknown> {
  if (!isPlainObject(value)) throw new HttpError(400, `${what} must be a JSON object`);
  return value;
}

function digits(value: string): string {
  return value.replace(/\D/g, '');
}

function phoneMatches(stored: string | undefined, query: string): boolean {
  if (!stored) return false;
  const a = digits(stored);
  const b = digits(query);
  if (a.length < 7 || b.length < 7) return false;
  return a === b || (a.length >= 10 && b.length >= 10 && a.slice(-10) === b.slice(-10));
}

/** Checks a seed and fills the defaults. */
function toCustomer(raw: unknown, index: number): CrmStoredCustomer {
  if (!isPlainObject(raw)) throw new HttpError(400, `customers[${index}] must be an object`);
  const text = (key: string, fallback: string): string => {
    const value = raw[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'string') throw new HttpError(400, `customers[${index}].${key} must be a string`);
    return value;
  };
  const points = raw.loyaltyPoints ?? 0;
  if (typeof points !== 'number' || !Number.isFinite(points)) {
    throw new HttpError(400, `customers[${index}].loyaltyPoints must be a number`);
  }
  const customer: CrmStoredCustomer = {
    id: text('id', `cust-${randomUUID().slice(0, 8)}`),
    firstName: text('firstName', ''),
    lastName: text('lastName', ''),
    loyaltyTier: text('loyaltyTier', 'standard'),
    accountStatus: text('accountStatus', 'active'),
    loyaltyPoints: points,
  };
  const email = text('email', '');
  const phone = text('phone', '');
  if (email) customer.email = email;
  if (phone) customer.phone = phone;
  return customer;
}

function publicCustomer(customer: CrmStoredCustomer): CrmCustomer {
  const { id, firstName, lastName, loyaltyTier, accountStatus, loyaltyPoints } = customer;
  return { id, firstName, lastName, loyaltyTier, accountStatus, loyaltyPoints };
}

/** Why a record is invalid, or undefined when it is a valid `CrmRecord`. */
function recordProblem(raw: unknown): string | undefined {
  if (!isPlainObject(raw)) return 'record must be an object';
  if (typeof raw.externalId !== 'string' || raw.externalId === '') return 'externalId is required';
  if (raw.sourceUpdatedAt === undefined) return 'sourceUpdatedAt is required';
  if (!isIsoDateTime(raw.sourceUpdatedAt)) return 'sourceUpdatedAt must be an ISO 8601 date-time';
  if (raw.lastInteraction === undefined) return 'lastInteraction is required';
  if (!isIsoDateTime(raw.lastInteraction)) return 'lastInteraction must be an ISO 8601 date-time';
  for (const key of ['emailHash', 'phoneHash'] as const) {
    if (raw[key] !== undefined && (typeof raw[key] !== 'string' || !HASH_PATTERN.test(raw[key]))) {
      return `${key} must be 64 hex characters`;
    }
  }
  for (const key of ['consentFlags', 'attributes', 'channelContext'] as const) {
    if (raw[key] !== undefined && !isPlainObject(raw[key])) return `${key} must be an object`;
  }
  return undefined;
}

/** Starts the CRM sandbox on 127.0.0.1. */
export async function startCrmSandbox(options: CrmSandboxOptions): Promise<CrmSandbox> {
  const clock = createClock(options.clock);
  const faults = new FaultEngine();
  const seeds = (options.customers ?? []).map((seed, index) => toCustomer(seed, index));
  const initialNotFound: CustomerNotFoundMode = options.customerNotFound ?? '404';
  let apiToken = options.apiToken;
  let customerNotFound = initialNotFound;
  const limiter = new FixedWindowRateLimiter(clock, options.rateLimitPerSecond ?? null);
  let world = new World();

  const nowIso = (): string => new Date(clock.now()).toISOString();
  const seedCustomers = (): void => {
    for (const customer of seeds) world.customers.set(customer.id, { ...customer });
  };
  seedCustomers();

  const reset = (): void => {
    world = new World();
    faults.clear();
    clock.reset();
    apiToken = options.apiToken;
    customerNotFound = initialNotFound;
    limiter.setLimit(options.rateLimitPerSecond ?? null);
    seedCustomers();
  };

  const failureFor = (externalId: string): StoredRecordFailureRule | undefined => takeRecordFailure(world.failureRules, externalId);

  const applyRecord = (raw: unknown, key: string): CrmRecordResult => {
    const externalId = isPlainObject(raw) && typeof raw.externalId === 'string' ? raw.externalId : '';
    const invalid = recordProblem(raw);
    if (invalid) return { externalId, status: 'failed', error: { code: 'VALIDATION_ERROR', message: invalid } };
    const rule = failureFor(externalId);
    if (rule) {
      return {
        externalId,
        status: 'failed',
        error: { code: rule.code, message: rule.message ?? `Injected failure ${rule.code}` },
      };
    }
    const record = structuredClone(raw) as unknown as CrmRecord;
    for (const finding of findPii(record)) world.piiFindings.push({ externalId, ...finding });
    const stored = world.records.get(externalId);
    const now = nowIso();
    if (!stored) {
      world.records.set(externalId, { record, versions: 1, lastKey: key, createdAt: now, updatedAt: now });
      return { externalId, status: 'created' };
    }
    // docs/api.md section 6 (`rest`): fields a request does not send keep their value; the
    // `attributes` and `consentFlags` maps merge key by key. Like a real CRM, it applies
    // what it is sent, older `sourceUpdatedAt` or not: keeping versions in order is the
    // worker's job.
    const merged = { ...stored.record, ...record } as CrmRecord & Record<string, unknown>;
    for (const map of ['attributes', 'consentFlags'] as const) {
      const before = stored.record[map];
      const sent = record[map];
      if (before && sent) merged[map] = { ...before, ...sent } as never;
    }
    if (canonicalJson(merged) === canonicalJson(stored.record)) return { externalId, status: 'unchanged' };
    stored.record = merged;
    stored.versions += 1;
    stored.lastKey = key;
    stored.updatedAt = now;
    return { externalId, status: 'updated' };
  };

  const routes: RouteDef[] = [
    {
      method: 'GET',
      path: '/customers',
      operation: 'lookupCustomers',
      handler: (req) => {
        const email = req.query.get('email')?.trim().toLowerCase() ?? '';
        const phone = req.query.get('phone')?.trim() ?? '';
        if (!email && !phone) throw new HttpError(400, 'email or phone is required');
        const matches = [...world.customers.values()].filter(
          (customer) =>
            (email !== '' && customer.email?.trim().toLowerCase() === email) ||
            (phone !== '' && phoneMatches(customer.phone, phone)),
        );
        if (matches.length === 0 && customerNotFound === '404') throw new HttpError(404, 'No customer matches');
        return { status: 200, body: matches.map(publicCustomer) };
      },
    },
    {
      method: 'POST',
      path: '/records/batch-upsert',
      operation: 'batchUpsert',
      handler: (req) => {
        const headerKey = req.header('idempotency-key');
        if (!headerKey) throw new HttpError(400, 'The Idempotency-Key header is required');
        const body = requireObject(req.json(), 'The body');
        if (body.idempotencyKey !== headerKey) {
          throw new HttpError(400, 'idempotencyKey in the body must equal the Idempotency-Key header');
        }
        if (!Array.isArray(body.records)) throw new HttpError(400, 'records must be an array');
        if (body.records.length > CRM_MAX_BATCH_RECORDS) {
          throw new HttpError(413, `At most ${CRM_MAX_BATCH_RECORDS} records per request; got ${body.records.length}`);
        }
        const print = fingerprint(body);
        const existing = world.keys.get(headerKey);
        if (existing) {
          if (existing.fingerprint !== print) {
            throw new HttpError(422, 'This Idempotency-Key was already used with a different body');
          }
          if (existing.state === 'inflight') {
            throw new HttpError(409, 'A request with this Idempotency-Key is still being processed');
          }
          existing.replays += 1;
          world.replays += 1;
          return { status: 200, body: structuredClone(existing.reply), headers: { 'idempotent-replayed': 'true' } };
        }
        const entry: KeyEntry = {
          fingerprint: print,
          state: 'inflight',
          applications: 0,
          replays: 0,
          firstSeenAt: nowIso(),
        };
        world.keys.set(headerKey, entry);
        const records: unknown[] = body.records;
        let results: CrmRecordResult[];
        try {
          results = records.map((record) => applyRecord(record, headerKey));
        } catch (error) {
          world.keys.delete(headerKey);
          throw error;
        }
        entry.applications += 1;
        entry.reply = { results };
        return {
          status: 200,
          body: { results },
          afterSend: () => {
            entry.state = 'done';
          },
        };
      },
    },
  ];

  const state = (): CrmSandboxState => {
    const idempotency: Record<string, CrmIdempotencyEntry> = {};
    for (const [key, entry] of world.keys) {
      const { state: keyState, applications, replays, firstSeenAt } = entry;
      idempotency[key] = { state: keyState, applications, replays, firstSeenAt };
    }
    return structuredClone({
      now: nowIso(),
      config: { rateLimitPerSecond: limiter.perSecond, customerNotFound },
      customers: [...world.customers.values()],
      records: Object.fromEntries(world.records),
      idempotency,
      appliedKeys: Object.values(idempotency).filter((entry) => entry.applications > 0).length,
      duplicateApplications: Object.entries(idempotency)
        .filter(([, entry]) => entry.applications > 1)
        .map(([key]) => key),
      replays: world.replays,
      requestsByStatus: world.requestsByStatus,
      recordFailureRules: world.failureRules,
      piiFindings: world.piiFindings,
      faults: faults.list(),
      requests: world.log,
    });
  };

  const controlRoutes: RouteDef[] = [
    controlRoute('POST', '/__sandbox/config', (req) => {
      const body = requireObject(req.json(), 'The body');
      applyRateLimitSetting(body, limiter);
      if (body.customerNotFound !== undefined) {
        if (body.customerNotFound !== '404' && body.customerNotFound !== 'empty') {
          throw new HttpError(400, 'customerNotFound must be "404" or "empty"');
        }
        customerNotFound = body.customerNotFound;
      }
      return { status: 200, body: state().config };
    }),
    controlRoute('PUT', '/__sandbox/token', (req) => {
      const body = requireObject(req.json(), 'The body');
      if (typeof body.apiToken !== 'string' || body.apiToken === '') {
        throw new HttpError(400, 'apiToken must be a non-empty string');
      }
      apiToken = body.apiToken;
      return { status: 204 };
    }),
    controlRoute('GET', '/__sandbox/customers', () => ({ status: 200, body: { customers: [...world.customers.values()] } })),
    controlRoute('POST', '/__sandbox/customers', (req) => {
      const body = requireObject(req.json(), 'The body');
      if (!Array.isArray(body.customers)) throw new HttpError(400, 'customers must be an array');
      const added = body.customers.map((seed, index) => toCustomer(seed, index));
      for (const customer of added) world.customers.set(customer.id, customer);
      return { status: 201, body: { customers: added } };
    }),
    controlRoute('DELETE', '/__sandbox/customers', () => {
      world.customers.clear();
      return { status: 204 };
    }),
    controlRoute('GET', '/__sandbox/record-failures', () => ({ status: 200, body: { rules: world.failureRules } })),
    controlRoute('POST', '/__sandbox/record-failures', (req) => {
      const body = requireObject(req.json(), 'The body');
      if (!Array.isArray(body.rules)) throw new HttpError(400, 'rules must be an array');
      const added = body.rules.map((raw, index): StoredRecordFailureRule => {
        if (!isPlainObject(raw)) throw new HttpError(400, `rules[${index}] must be an object`);
        return parseRecordFailureRule(raw, index);
      });
      world.failureRules.push(...added);
      return { status: 201, body: { rules: added } };
    }),
    controlRoute('DELETE', '/__sandbox/record-failures', () => {
      world.failureRules = [];
      return { status: 204 };
    }),
  ];

  const server = await startSandboxServer(options, { clock, faults, state, reset }, {
    routes,
    controlRoutes,
    errorReply: (status, message) => problem(status, message),
    guard: (req): SandboxReply | undefined => {
      if (!limiter.tryAcquire()) {
        return { ...problem(429, 'Rate limit exceeded'), headers: { 'retry-after': '1' } };
      }
      const bearer = /^Bearer\s+(\S+)$/i.exec(req.header('authorization') ?? '');
      if (bearer?.[1] !== apiToken) {
        return { ...problem(401, 'A valid bearer token is required'), headers: { 'www-authenticate': 'Bearer' } };
      }
      return undefined;
    },
    logExtras: (req) => {
      const key = req.header('idempotency-key');
      return key ? { idempotencyKey: key } : {};
    },
    onLog: (entry) => logRequest(world, entry),
  });

  return { url: server.url, port: server.port, close: server.close, state, reset, faults, clock };
}
