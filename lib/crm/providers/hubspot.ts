/**
 * HubSpot CRM v3 contacts (docs/api.md section 6), a thin `fetch` adapter, no SDK.
 *
 * Upsert: `POST /crm/v3/objects/contacts/batch/upsert` with at most 100 inputs
 * `{id: externalId, idProperty: HUBSPOT_ID_PROPERTY, objectWriteTraceId, properties}`.
 * Every input carries an `objectWriteTraceId` (the record's position), so one invalid
 * record gives a 207 listing it instead of rejecting the whole batch; results are matched
 * back by trace id (HubSpot does not promise their order). An answer that does not account
 * for every input (HubSpot answers 2xx and writes nothing for a body it cannot read) is
 * treated as a failure of the call, never as success.
 *
 * Properties (names are `{prefix}` + suffix, default prefix `guest_sync_`, HubSpot internal
 * names: lower case, digits, underscores):
 *   externalId -> HUBSPOT_ID_PROPERTY (via `id` + `idProperty`; a unique custom property, never `email`)
 *   emailHash -> email_hash, phoneHash -> phone_hash, lastInteraction -> last_interaction,
 *   sourceUpdatedAt -> source_updated_at, consentFlags.k -> consent_k, attributes.k -> attr_k,
 *   channelContext.k -> channel_k (values as strings; booleans "true" / "false").
 * HubSpot changes only the properties it is sent, so a key not sent keeps its value.
 *
 * Read (before re-sending a record whose earlier send went unanswered):
 * `POST /crm/v3/objects/contacts/batch/read` `{idProperty, properties, inputs: [{id}]}`,
 * at most 100 inputs; HubSpot answers the contacts it has (200, or 207 listing the ids it
 * does not as OBJECT_NOT_FOUND), properties as strings, matched back by `idProperty`.
 *
 * Limits (HubSpot "API usage guidelines and limits"): 100 (Free/Starter) or 190
 * (Professional/Enterprise) requests per rolling 10 s and a daily quota that resets at
 * midnight in the account's time zone; `X-HubSpot-RateLimit-Max/-Remaining/-Interval-Milliseconds`
 * and `-Daily/-Daily-Remaining`; 429 bodies name the `policyName` (`TEN_SECONDLY_ROLLING`
 * slows down, `DAILY` stops until midnight). Search has its own limit (about 5 requests/s).
 */
import type { CrmRecord } from '#lib/jobs';
import { safeCrmText } from '../batch-upsert.ts';
import type { CallFailure, CallOptions, CrmAdapter, ProviderLookupOutcome, ProviderReadOutcome, ProviderRecordResult, ProviderUpsertOutcome, RequestBudget, UpsertOptions } from '../adapter.ts';
import { classifyRecordCode, propertySafeKey } from '../adapter.ts';
import { ProviderAdapterBase, asBody, customerFromRow, type Body, type CustomerFieldNames, type ProviderConnection } from './base.ts';
import { classifyStatus, isFailure, nextMidnight, numberHeader, retryAfterMs, type ProviderAnswer } from './call.ts';

/** HubSpot's documented maximum inputs per batch call. */
export const HUBSPOT_BATCH_LIMIT = 100;

/** Contact properties the lookup reads into the customer shape. */
export type HubSpotCustomerProperties = CustomerFieldNames;

/** How a HubSpot adapter is built. */
export interface HubSpotAdapterOptions extends ProviderConnection {
  /** `CRM_BASE_URL` (default `https://api.hubapi.com`). */
  baseUrl?: string;
  /** `HUBSPOT_ID_PROPERTY`: the unique custom property holding `externalId`. */
  idProperty: string;
  /** Private app token (`accessToken` of the CRM secret), through `tokens`. */
  /** Prefix of the suite's contact properties (default `guest_sync_`). */
  propertyPrefix?: string;
  customerProperties?: Partial<HubSpotCustomerProperties>;
  /** The account's time zone, for the daily reset (default UTC). */
  timeZone?: string;
}

const DEFAULT_CUSTOMER: HubSpotCustomerProperties = { firstName: 'firstname', lastName: 'lastname', loyaltyTier: 'loyalty_tier', accountStatus: 'account_status', loyaltyPoints: 'loyalty_points' };

/** The trace ids an error's context names (HubSpot sends them as arrays of strings). */
function traceIdsOf(error: Body): string[] {
  const raw = asBody(error['context'])['objectWriteTraceId'];
  if (Array.isArray(raw)) return raw.filter((v): v is string => typeof v === 'string');
  return typeof raw === 'string' ? [raw] : [];
}

/** The HubSpot adapter. */
export class HubSpotAdapter extends ProviderAdapterBase<'hubspot'> implements CrmAdapter {
  readonly #options: HubSpotAdapterOptions;

  constructor(options: HubSpotAdapterOptions) {
    const p = options.propertyPrefix ?? 'guest_sync_';
    super({ provider: 'hubspot', what: 'HubSpot', batchLimit: HUBSPOT_BATCH_LIMIT }, { ...options, baseUrl: options.baseUrl ?? 'https://api.hubapi.com' }, {
      customer: { ...DEFAULT_CUSTOMER, ...options.customerProperties },
      fields: { lastInteraction: `${p}last_interaction`, sourceUpdatedAt: `${p}source_updated_at`, emailHash: `${p}email_hash`, phoneHash: `${p}phone_hash`, entry: (kind, key) => `${p}${kind}_${propertySafeKey(key)}` },
    });
    if (options.idProperty.trim() === '' || options.idProperty.trim().toLowerCase() === 'email') {
      throw new Error('HUBSPOT_ID_PROPERTY must name a unique custom property, not email');
    }
    this.#options = options;
  }

  /** The contact properties a record maps to (see the file comment). */
  properties(record: CrmRecord): Record<string, string> {
    // HubSpot property values are strings (booleans "true" / "false").
    return Object.fromEntries(Object.entries(this.fieldsOf(record)).map(([name, value]) => [name, String(value)]));
  }

  async upsert(chunk: readonly CrmRecord[], options: UpsertOptions): Promise<ProviderUpsertOutcome> {
    const unsent = this.unsent(chunk.length, 200, (limit, size) => `HubSpot takes at most ${limit} inputs per call; got ${size}`);
    if (unsent) return unsent;
    const inputs = chunk.map((record, index) => ({
      id: record.externalId,
      idProperty: this.#options.idProperty,
      objectWriteTraceId: String(index),
      properties: this.properties(record),
    }));
    const answer = await this.send({ method: 'POST', path: '/crm/v3/objects/contacts/batch/upsert', body: { inputs } }, options);
    if (isFailure(answer)) return { kind: 'failed', failure: answer };
    if (answer.status !== 200 && answer.status !== 201 && answer.status !== 207) {
      return { kind: 'failed', failure: this.#classify(answer) };
    }
    const body = asBody(answer.body);
    const byTrace = new Map<string, ProviderRecordResult>();
    for (const raw of Array.isArray(body['results']) ? body['results'] : []) {
      const result = asBody(raw);
      const trace = typeof result['objectWriteTraceId'] === 'string' ? result['objectWriteTraceId'] : undefined;
      const record = trace === undefined ? undefined : chunk[Number(trace)];
      if (!record) continue;
      byTrace.set(trace as string, { externalId: record.externalId, status: result['new'] === true ? 'created' : 'updated' });
    }
    for (const raw of Array.isArray(body['errors']) ? body['errors'] : []) {
      const error = asBody(raw);
      // The detailed code sits in the nested errors (e.g. INVALID_OPTION); the category is the fallback.
      const nested = Array.isArray(error['errors']) ? asBody(error['errors'][0]) : {};
      const code = typeof nested['code'] === 'string' && nested['code'] !== '' ? nested['code'] : typeof error['category'] === 'string' ? error['category'] : 'ERROR';
      for (const trace of traceIdsOf(error)) {
        const record = chunk[Number(trace)];
        if (!record) continue;
        byTrace.set(trace, { externalId: record.externalId, status: 'failed', error: { code, message: safeCrmText(error['message']), classification: classifyRecordCode(code) } });
      }
    }
    const results = chunk.map((_record, index) => byTrace.get(String(index)));
    const missing = results.filter((result) => result === undefined).length;
    if (missing > 0) {
      // HubSpot answered success for something it did not write: never count it as done.
      return { kind: 'failed', failure: { kind: 'transient', status: answer.status, reason: `HubSpot answered ${answer.status} without a result for ${missing} of ${chunk.length} inputs` } };
    }
    return { kind: 'ok', status: answer.status, results: results as ProviderRecordResult[] };
  }

  async readRecords(records: readonly CrmRecord[], options: CallOptions): Promise<ProviderReadOutcome> {
    const unread = this.unread(records.length);
    if (unread) return unread;
    const { idProperty } = this.#options;
    const body = { idProperty, properties: [idProperty, ...this.fieldNamesOf(records)], propertiesWithHistory: [], inputs: records.map((record) => ({ id: record.externalId })) };
    const answer = await this.send({ method: 'POST', path: '/crm/v3/objects/contacts/batch/read', body }, options);
    if (isFailure(answer)) return { kind: 'failed', failure: answer };
    if (answer.status !== 200 && answer.status !== 207) return { kind: 'failed', failure: this.#classify(answer) };
    const results = asBody(answer.body)['results'];
    if (!Array.isArray(results)) return { kind: 'failed', failure: { kind: 'transient', status: answer.status, reason: 'HubSpot answered a batch read without results' } };
    const rows = new Map<string, Body>();
    for (const raw of results) {
      const properties = asBody(asBody(raw)['properties']);
      const id = properties[idProperty];
      if (typeof id === 'string') rows.set(id, properties);
    }
    return this.readOutcome(records, rows);
  }

  async lookupCustomer(query: { email?: string; phone?: string }, options: CallOptions): Promise<ProviderLookupOutcome> {
    const email = query.email?.trim();
    const phone = query.phone?.trim();
    const filterGroups: Array<{ filters: Array<{ propertyName: string; operator: 'EQ'; value: string }> }> = [];
    if (email) filterGroups.push({ filters: [{ propertyName: 'email', operator: 'EQ', value: email.toLowerCase() }] });
    if (phone) {
      filterGroups.push({ filters: [{ propertyName: 'phone', operator: 'EQ', value: phone }] });
      filterGroups.push({ filters: [{ propertyName: 'mobilephone', operator: 'EQ', value: phone }] });
    }
    if (filterGroups.length === 0) return { kind: 'not_found' };
    const c = this.customer;
    const answer = await this.send(
      {
        method: 'POST',
        path: '/crm/v3/objects/contacts/search',
        body: { filterGroups, properties: [c.firstName, c.lastName, c.loyaltyTier, c.accountStatus, c.loyaltyPoints], limit: 1 },
      },
      options,
    );
    if (isFailure(answer)) return { kind: 'failed', failure: answer };
    if (answer.status !== 200) return { kind: 'failed', failure: this.#classify(answer) };
    const results = asBody(answer.body)['results'];
    if (!Array.isArray(results)) return { kind: 'failed', failure: { kind: 'transient', status: 200, reason: 'HubSpot search answered without results' } };
    const first = asBody(results[0]);
    const id = first['id'];
    if (typeof id !== 'string' || id === '') return { kind: 'not_found' };
    // HubSpot answers every property as a string, loyalty points included.
    return { kind: 'found', customer: customerFromRow(id, asBody(first['properties']), c, true) };
  }

  /**
   * Reads the `X-HubSpot-RateLimit-*` headers. CRM search answers carry none (HubSpot sends
   * them on the other endpoints only), so an answer without them leaves the budget as it was
   * rather than passing an old count off as new.
   */
  protected override readBudget(headers: Headers): void {
    const now = this.now();
    const next: RequestBudget = { ...this.lastBudget, observedAt: now };
    let seen = false;
    const set = (key: keyof Omit<RequestBudget, 'observedAt'>, header: string): void => {
      const value = numberHeader(headers, header);
      if (value === undefined) return;
      next[key] = value;
      seen = true;
    };
    set('windowLimit', 'x-hubspot-ratelimit-max');
    set('windowRemaining', 'x-hubspot-ratelimit-remaining');
    set('windowMs', 'x-hubspot-ratelimit-interval-milliseconds');
    set('dailyLimit', 'x-hubspot-ratelimit-daily');
    set('dailyRemaining', 'x-hubspot-ratelimit-daily-remaining');
    if (!seen) return;
    if (next.dailyLimit !== undefined) next.dailyResetAt = nextMidnight(now, this.#options.timeZone);
    this.lastBudget = next;
  }

  #classify(answer: ProviderAnswer): CallFailure {
    const body = asBody(answer.body);
    const category = typeof body['category'] === 'string' ? body['category'] : undefined;
    const reason = `HubSpot answered ${answer.status}${category ? ` ${category}` : ''}: ${safeCrmText(body['message'])}`;
    const now = this.now();
    if (answer.status === 429) {
      if (body['policyName'] === 'DAILY') {
        return { kind: 'quota_exhausted', status: 429, reason, resetAt: nextMidnight(now, this.#options.timeZone), probeAfterMs: 60_000 };
      }
      // TEN_SECONDLY_ROLLING (or the search limit): the window frees within its interval.
      const interval = numberHeader(answer.headers, 'x-hubspot-ratelimit-interval-milliseconds');
      return { kind: 'rate_limited', status: 429, reason, retryAfterMs: retryAfterMs(answer.headers, now) ?? (body['policyName'] === 'TEN_SECONDLY_ROLLING' ? (interval ?? 10_000) : 1_000) };
    }
    if (answer.status === 403) return { kind: 'permission', status: 403, reason };
    if (answer.status === 400 || answer.status === 409 || answer.status === 413 || answer.status === 422) {
      return { kind: 'rejected', status: answer.status, reason, ...(category ? { code: category } : {}) };
    }
    return classifyStatus(answer.status, reason, answer.headers, now);
  }
}
