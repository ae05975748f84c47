/**
 * What the provider sandboxes share: a record store that merges properties the way the
 * real CRMs do (only the properties sent change), counts every write per record and keeps
 * the `sourceUpdatedAt` of each write (so tests can prove "never applied twice" and "never
 * back in time"), per-record failure rules, seeded customers for lookups, and the control
 * routes for them.
 */
import { parseRecordFailureRule, takeRecordFailure, type RequestLog, type StoredRecordFailureRule } from '../crm-world.ts';
import { HttpError, controlRoute, type RouteDef } from '../server.ts';
import { isPlainObject } from '../util.ts';

/** One stored CRM record. */
export interface ProviderStoredRecord {
  /** The provider's own id (HubSpot object id, Salesforce Id, Dataverse contactid). */
  id: string;
  /** The suite's `externalId`, or undefined for a seeded customer. */
  externalId?: string;
  /** The provider-side properties, merged over every write. */
  fields: Record<string, unknown>;
  /** Writes that changed or re-sent it (creation counts as one). */
  writes: number;
  /** `sourceUpdatedAt` carried by each write, in order. */
  history: string[];
  createdAt: string;
  updatedAt: string;
  /** Epoch ms when the last write becomes searchable (search lag). */
  searchableAt: number;
}

/** A per-record failure rule (`POST /__sandbox/record-failures`), the same as the generic CRM sandbox's. */
export type ProviderFailureRule = StoredRecordFailureRule;

/** Counters every provider sandbox keeps. */
export interface ProviderWorld extends RequestLog {
  records: Map<string, ProviderStoredRecord>;
  failureRules: ProviderFailureRule[];
}

/** A fresh world. */
export function newWorld(): ProviderWorld {
  return { records: new Map(), failureRules: [], requestsByStatus: {}, log: [] };
}

/** The first live failure rule matching `externalId` (its counter moves on unless `consume` is false), if any. */
export function takeFailure(world: ProviderWorld, externalId: string, consume = true): ProviderFailureRule | undefined {
  return takeRecordFailure(world.failureRules, externalId, consume);
}

/** Merges `fields` into the record of `externalId` (creating it); returns whether it was created. */
export function writeRecord(
  world: ProviderWorld,
  externalId: string,
  fields: Record<string, unknown>,
  options: { now: number; newId: () => string; sourceField: string; searchLagMs?: number },
): { record: ProviderStoredRecord; created: boolean } {
  const at = new Date(options.now).toISOString();
  const existing = world.records.get(externalId);
  const source = typeof fields[options.sourceField] === 'string' ? (fields[options.sourceField] as string) : '';
  if (existing) {
    Object.assign(existing.fields, structuredClone(fields));
    existing.writes += 1;
    existing.history.push(source);
    existing.updatedAt = at;
    existing.searchableAt = options.now + (options.searchLagMs ?? 0);
    return { record: existing, created: false };
  }
  const record: ProviderStoredRecord = {
    id: options.newId(),
    externalId,
    fields: structuredClone(fields),
    writes: 1,
    history: [source],
    createdAt: at,
    updatedAt: at,
    searchableAt: options.now + (options.searchLagMs ?? 0),
  };
  world.records.set(externalId, record);
  return { record, created: true };
}

/** Adds a seeded customer (searchable at once) under a synthetic key. */
export function seedCustomer(world: ProviderWorld, id: string, fields: Record<string, unknown>, now: number): ProviderStoredRecord {
  const at = new Date(now).toISOString();
  const record: ProviderStoredRecord = { id, fields: structuredClone(fields), writes: 0, history: [], createdAt: at, updatedAt: at, searchableAt: 0 };
  world.records.set(`customer:${id}`, record);
  return record;
}

/** A deep copy of the records, keyed as stored (`externalId`, or `customer:<id>`). */
export function recordsView(world: ProviderWorld): Record<string, ProviderStoredRecord> {
  return structuredClone(Object.fromEntries(world.records));
}

/** Digits of a phone number, for lenient comparison. */
export function phoneDigits(value: unknown): string {
  return typeof value === 'string' ? value.replace(/\D/g, '') : '';
}

/** True when two phone numbers are the same number (last 10 digits, at least 7). */
export function samePhone(a: unknown, b: unknown): boolean {
  const x = phoneDigits(a);
  const y = phoneDigits(b);
  if (x.length < 7 || y.length < 7) return false;
  return x === y || (x.length >= 10 && y.length >= 10 && x.slice(-10) === y.slice(-10));
}

/** The record-failure and customer control routes every provider sandbox offers. */
export function storeControlRoutes(getWorld: () => ProviderWorld, seed: (fields: Record<string, unknown>) => ProviderStoredRecord): RouteDef[] {
  return [
    controlRoute('GET', '/__sandbox/record-failures', () => ({ status: 200, body: { rules: getWorld().failureRules } })),
    controlRoute('POST', '/__sandbox/record-failures', (req) => {
      const body = req.json();
      if (!isPlainObject(body) || !Array.isArray(body.rules)) throw new HttpError(400, 'body must be { "rules": [ ... ] }');
      const added = body.rules.map((raw, index): ProviderFailureRule => {
        if (!isPlainObject(raw)) throw new HttpError(400, `rules[${index}].code is required`);
        return parseRecordFailureRule(raw, index);
      });
      getWorld().failureRules.push(...added);
      return { status: 201, body: { rules: added } };
    }),
    controlRoute('DELETE', '/__sandbox/record-failures', () => {
      getWorld().failureRules = [];
      return { status: 204 };
    }),
    controlRoute('POST', '/__sandbox/customers', (req) => {
      const body = req.json();
      if (!isPlainObject(body) || !Array.isArray(body.customers)) throw new HttpError(400, 'customers must be an array');
      const added = body.customers.map((raw, index) => {
        if (!isPlainObject(raw)) throw new HttpError(400, `customers[${index}] must be an object`);
        return seed(raw);
      });
      return { status: 201, body: { customers: added } };
    }),
  ];
}

/** A positive integer from a config body, or undefined when absent; 400 otherwise. */
export function positiveInteger(body: Record<string, unknown>, key: string): number | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new HttpError(400, `${key} must be a non-negative integer`);
  return value;
}

/** Reads an `application/x-www-form-urlencoded` body. */
export function formBody(raw: Buffer): URLSearchParams {
  return new URLSearchParams(raw.toString('utf8'));
}
