/**
 * What the HubSpot, Salesforce and Dynamics adapters share, written once: how they reach
 * their API (token source, `fetch`, clock), the budget their answers reveal, the checks a
 * chunk passes before it is sent, and how a lookup row becomes the contract customer shape.
 * Each adapter keeps only its wire format and its own classification.
 */
import type { CrmRecord } from '#lib/jobs';
import { flattenRecord, sameCrmValue, type CallFailure, type CallOptions, type CrmProviderName, type FlatRecordFields, type ProviderCustomer, type ProviderReadOutcome, type ProviderUpsertOutcome, type RequestBudget } from '../adapter.ts';
import { isFailure, sendAuthenticated, type ProviderAnswer, type ProviderRequest } from './call.ts';
import type { CrmTokenSource } from './oauth.ts';

/** A JSON object read from an answer. */
export type Body = Record<string, unknown>;

/** `value` when it is a JSON object, else an empty one: answers are read without trusting their shape. */
export const asBody = (value: unknown): Body => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Body) : {});

/** The rows of a read by the value of their `key` field (rows without a text value there are left out). */
export function rowsByKey(rows: readonly unknown[], key: string): Map<string, Body> {
  const byKey = new Map<string, Body>();
  for (const raw of rows) {
    const row = asBody(raw);
    const value = row[key];
    if (typeof value === 'string') byKey.set(value, row);
  }
  return byKey;
}

/** The provider-side names of the customer fields a lookup reads (each provider has its defaults). */
export interface CustomerFieldNames {
  firstName: string;
  lastName: string;
  loyaltyTier: string;
  accountStatus: string;
  loyaltyPoints: string;
}

/** The provider-side names a record's values are written under. */
export interface RecordFieldNames {
  lastInteraction: string;
  sourceUpdatedAt: string;
  emailHash: string;
  phoneHash: string;
  /** The name of one key of consentFlags (`consent`), attributes (`attr`) or channelContext (`channel`). */
  entry(kind: FlatRecordFields['entries'][number][0], key: string): string;
}

/** A record's values under a provider's names; an absent hash or map key is not sent, so the provider keeps its value. */
export function recordFields(record: CrmRecord, names: RecordFieldNames): Record<string, string | number | boolean> {
  const flat = flattenRecord(record);
  const fields: Record<string, string | number | boolean> = { [names.lastInteraction]: flat.lastInteraction, [names.sourceUpdatedAt]: flat.sourceUpdatedAt };
  if (flat.emailHash !== undefined) fields[names.emailHash] = flat.emailHash;
  if (flat.phoneHash !== undefined) fields[names.phoneHash] = flat.phoneHash;
  for (const [kind, key, value] of flat.entries) fields[names.entry(kind, key)] = value;
  return fields;
}

/** How a provider adapter reaches its API; every provider's options carry these. */
export interface ProviderConnection {
  /** `CRM_BASE_URL`; without it, the instance URL the token endpoint names. */
  baseUrl?: string;
  tokens: CrmTokenSource;
  fetch?: typeof fetch;
  now?: () => number;
}

/**
 * The customer a lookup row describes: texts only when non-empty, loyalty points only when a
 * finite number (`pointsAsText`: the provider sends numbers as strings, as HubSpot does).
 */
export function customerFromRow(id: string, row: Body, names: CustomerFieldNames, pointsAsText = false): ProviderCustomer {
  const customer: ProviderCustomer = { id };
  for (const key of ['firstName', 'lastName', 'loyaltyTier', 'accountStatus'] as const) {
    const value = row[names[key]];
    if (typeof value === 'string' && value !== '') customer[key] = value;
  }
  const raw = row[names.loyaltyPoints];
  const points = pointsAsText ? (typeof raw === 'string' && raw !== '' ? Number(raw) : undefined) : typeof raw === 'number' ? raw : undefined;
  if (points !== undefined && Number.isFinite(points)) customer.loyaltyPoints = points;
  return customer;
}

/** Who a provider adapter is. */
export interface ProviderIdentity<P extends CrmProviderName> {
  /** Its `CRM_PROVIDER` name. */
  provider: P;
  /** Its name in failure reasons ("HubSpot could not be reached"). */
  what: string;
  /** The provider's documented maximum records per upsert call. */
  batchLimit: number;
  /** Headers every request carries (Dataverse: the OData version). */
  headers?: Record<string, string>;
}

/** What every provider adapter keeps: who it is, its connection and clock, its field names and the budget last seen. */
export abstract class ProviderAdapterBase<P extends CrmProviderName> {
  readonly provider: P;
  /** The provider's documented maximum records per upsert call; chunks never exceed it. */
  readonly batchLimit: number;
  protected readonly now: () => number;
  /** Where the lookup finds the customer's fields (the provider's defaults, overridden by options). */
  protected readonly customer: CustomerFieldNames;
  /** The budget the latest answer revealed (each provider reads its own headers into it). */
  protected lastBudget: RequestBudget | undefined;
  readonly #identity: ProviderIdentity<P>;
  readonly #connection: ProviderConnection;
  readonly #fields: RecordFieldNames;

  protected constructor(identity: ProviderIdentity<P>, connection: ProviderConnection, names: { customer: CustomerFieldNames; fields: RecordFieldNames }) {
    this.provider = identity.provider;
    this.batchLimit = identity.batchLimit;
    this.#identity = identity;
    this.#connection = connection;
    this.now = connection.now ?? Date.now;
    this.customer = names.customer;
    this.#fields = names.fields;
  }

  /** A record's values under this provider's names (see `recordFields`). */
  protected fieldsOf(record: CrmRecord): Record<string, string | number | boolean> {
    return recordFields(record, this.#fields);
  }

  /** The provider-side names of every field `records` would be sent with (what a read selects). */
  protected fieldNamesOf(records: readonly CrmRecord[]): string[] {
    return [...new Set(records.flatMap((record) => Object.keys(this.fieldsOf(record))))];
  }

  /**
   * A read's outcome from the rows the CRM answered (by externalId): each found record's
   * values of the fields it would be sent with, and whether every one equals what would be sent.
   */
  protected readOutcome(records: readonly CrmRecord[], rows: ReadonlyMap<string, Body>): ProviderReadOutcome {
    const found = new Map<string, Record<string, unknown>>();
    const held = new Set<string>();
    for (const record of records) {
      const row = rows.get(record.externalId);
      if (!row) continue;
      const sent = this.fieldsOf(record);
      found.set(record.externalId, Object.fromEntries(Object.keys(sent).map((name) => [name, row[name] ?? null])));
      if (Object.entries(sent).every(([name, value]) => sameCrmValue(value, row[name]))) held.add(record.externalId);
    }
    return { kind: 'ok', records: found, held };
  }

  /** The outcome of a read that is not sent: nothing to read, or more than `batchLimit` records. */
  protected unread(size: number): ProviderReadOutcome | undefined {
    if (size === 0) return { kind: 'ok', records: new Map(), held: new Set() };
    if (size > this.batchLimit) return { kind: 'failed', failure: { kind: 'rejected', status: 400, reason: `${this.#identity.what} reads at most ${this.batchLimit} records per call here; got ${size}` } };
    return undefined;
  }

  /** The budget read from the latest answers, or undefined before any answer. */
  budget(): RequestBudget | undefined {
    return this.lastBudget ? { ...this.lastBudget } : undefined;
  }

  /**
   * The outcome of a chunk that is not sent: an empty one succeeds with `emptyStatus`, one
   * over `batchLimit` is rejected with `tooMany(limit, size)`; undefined when it may be sent.
   */
  protected unsent(size: number, emptyStatus: number, tooMany: (limit: number, size: number) => string): ProviderUpsertOutcome | undefined {
    if (size === 0) return { kind: 'ok', status: emptyStatus, results: [] };
    if (size > this.batchLimit) return { kind: 'failed', failure: { kind: 'rejected', status: 400, reason: tooMany(this.batchLimit, size) } };
    return undefined;
  }

  /** Whether an answer says the API refused the token (renewed once); a provider with its own code overrides it. */
  protected refusesToken(answer: ProviderAnswer): boolean {
    return answer.status === 401;
  }

  /** Reads the budget headers of an answer into `lastBudget`; a provider that sends them overrides it. */
  protected readBudget(_headers: Headers): void {}

  /**
   * One authenticated request to `path` under the base URL, with this adapter's token source,
   * `fetch` and headers (see `sendAuthenticated`); every answer's budget headers are read.
   */
  protected async send(request: { method: ProviderRequest['method']; path: string; body?: unknown }, options: CallOptions): Promise<ProviderAnswer | CallFailure> {
    const { tokens, fetch, baseUrl } = this.#connection;
    const base = (): string => (baseUrl ?? tokens.instanceUrl() ?? '').replace(/\/+$/, '');
    const answer = await sendAuthenticated(
      tokens,
      { method: request.method, url: () => `${base()}${request.path}`, ...(request.body === undefined ? {} : { body: request.body }), ...(this.#identity.headers ? { headers: this.#identity.headers } : {}) },
      { timeoutMs: options.timeoutMs, what: this.#identity.what, ...(fetch ? { fetch } : {}), refusedToken: (a) => this.refusesToken(a) },
    );
    if (!isFailure(answer)) this.readBudget(answer.headers);
    return answer;
  }
}
