/**
 * Dynamics 365 / Dataverse Web API (docs/api.md section 6), a thin `fetch` adapter, no SDK.
 *
 * Upsert: `POST /api/data/v9.2/contacts/Microsoft.Dynamics.CRM.UpsertMultiple` `{Targets}`
 * ("UpsertMultiple Action"): every target carries `@odata.type: Microsoft.Dynamics.CRM.contact`
 * and `@odata.id: contacts({DYNAMICS_ALTERNATE_KEY}='{externalId}')`. The action answers
 * 204 without per-record results and is all-or-nothing: when one target fails the whole
 * call fails and nothing is written, so a 4xx with a record-level code is reported as a
 * rejected call (the worker can split the chunk to find the record).
 *
 * Columns (custom columns on contact; names are `{prefix}` + suffix, default prefix `gs_`,
 * Dataverse logical names are lower case): emailHash -> emailhash, phoneHash -> phonehash,
 * lastInteraction -> lastinteraction, sourceUpdatedAt -> sourceupdatedat,
 * consentFlags.k -> consent_k, attributes.k -> attr_k, channelContext.k -> channel_k.
 * Dataverse sets only the columns it is sent, so a key not sent keeps its value.
 *
 * Limits ("Service protection API limits"): per user, 6,000 requests and 20 minutes of
 * combined execution time per 5-minute sliding window, and 52 concurrent requests; over
 * them 429 with `Retry-After` (slow down, never a daily stop). When Dataverse sends
 * `x-ms-ratelimit-burst-remaining-xrm-requests` (requests left in the window) and
 * `x-ms-ratelimit-time-remaining-xrm-requests` (execution ms left of the 1,200,000), the
 * budget's window is the scarcer of the two, counted in requests; a 429 empties it.
 * Lookup: `GET contacts?$select=..&$filter=emailaddress1 eq '..'&$top=1` (or the phone columns).
 * Read (before re-sending a record whose earlier send went unanswered):
 * `GET contacts?$select=<key>,<columns>&$filter=<key> eq '..' or <key> eq '..'`.
 */
import type { CrmRecord } from '#lib/jobs';
import { safeCrmText } from '../batch-upsert.ts';
import { propertySafeKey, type CallFailure, type CallOptions, type CrmAdapter, type ProviderLookupOutcome, type ProviderReadOutcome, type ProviderUpsertOutcome, type UpsertOptions } from '../adapter.ts';
import { ProviderAdapterBase, asBody, customerFromRow, rowsByKey, type Body, type CustomerFieldNames, type ProviderConnection } from './base.ts';
import { classifyStatus, isFailure, numberHeader, retryAfterMs, type ProviderAnswer } from './call.ts';

/** Records per UpsertMultiple call: the contract's default (Dataverse documents no hard maximum for it). */
export const DYNAMICS_BATCH_LIMIT = 100;

/** Dataverse's documented service protection window: requests and combined execution time per 5 minutes, per user. */
export const DYNAMICS_WINDOW = { requests: 6_000, executionMs: 1_200_000, windowMs: 300_000 } as const;

/** Contact columns the lookup reads into the customer shape. */
export type DynamicsCustomerColumns = CustomerFieldNames;

/** How a Dynamics adapter is built. */
export interface DynamicsAdapterOptions extends ProviderConnection {
  /** `CRM_BASE_URL`, else `DYNAMICS_URL` (the organisation URI). */
  baseUrl: string;
  /** `DYNAMICS_ALTERNATE_KEY`: the key column holding `externalId`. */
  alternateKey: string;
  columnPrefix?: string;
  customerColumns?: Partial<DynamicsCustomerColumns>;
  /** Phone columns the lookup compares (default telephone1, mobilephone). */
  phoneColumns?: string[];
}

const DEFAULT_CUSTOMER: DynamicsCustomerColumns = { firstName: 'firstname', lastName: 'lastname', loyaltyTier: 'gs_loyaltytier', accountStatus: 'gs_accountstatus', loyaltyPoints: 'gs_loyaltypoints' };

/** An OData string literal: single quotes doubled (OData ABNF `SQUOTE-in-string`). */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** The Dynamics 365 adapter. */
export class DynamicsAdapter extends ProviderAdapterBase<'dynamics'> implements CrmAdapter {
  readonly #options: DynamicsAdapterOptions;

  constructor(options: DynamicsAdapterOptions) {
    const p = options.columnPrefix ?? 'gs_';
    const identity = { provider: 'dynamics', what: 'Dynamics 365', batchLimit: DYNAMICS_BATCH_LIMIT, headers: { 'odata-version': '4.0', 'odata-maxversion': '4.0' } } as const;
    super(identity, options, {
      customer: { ...DEFAULT_CUSTOMER, ...options.customerColumns },
      fields: { lastInteraction: `${p}lastinteraction`, sourceUpdatedAt: `${p}sourceupdatedat`, emailHash: `${p}emailhash`, phoneHash: `${p}phonehash`, entry: (kind, key) => `${p}${kind}_${propertySafeKey(key)}` },
    });
    this.#options = options;
  }

  /** One UpsertMultiple target for a record (see the file comment). */
  target(record: CrmRecord): Record<string, string | number | boolean> {
    return {
      '@odata.type': 'Microsoft.Dynamics.CRM.contact',
      '@odata.id': `contacts(${this.#options.alternateKey}=${odataString(record.externalId)})`,
      ...this.fieldsOf(record),
    };
  }

  async upsert(chunk: readonly CrmRecord[], options: UpsertOptions): Promise<ProviderUpsertOutcome> {
    const unsent = this.unsent(chunk.length, 204, (limit, size) => `Dynamics upserts at most ${limit} records per call here; got ${size}`);
    if (unsent) return unsent;
    const answer = await this.send({ method: 'POST', path: '/api/data/v9.2/contacts/Microsoft.Dynamics.CRM.UpsertMultiple', body: { Targets: chunk.map((record) => this.target(record)) } }, options);
    if (isFailure(answer)) return { kind: 'failed', failure: answer };
    if (answer.status !== 204 && answer.status !== 200) return { kind: 'failed', failure: this.#classify(answer) };
    // UpsertMultiple tells neither created nor updated per record: all were applied.
    return { kind: 'ok', status: answer.status, results: chunk.map((record) => ({ externalId: record.externalId, status: 'updated' as const })) };
  }

  async readRecords(records: readonly CrmRecord[], options: CallOptions): Promise<ProviderReadOutcome> {
    const unread = this.unread(records.length);
    if (unread) return unread;
    const key = this.#options.alternateKey;
    const select = [...new Set([key, ...this.fieldNamesOf(records)])].join(',');
    const filter = records.map((record) => `${key} eq ${odataString(record.externalId)}`).join(' or ');
    const answer = await this.send({ method: 'GET', path: `/api/data/v9.2/contacts?$select=${encodeURIComponent(select)}&$filter=${encodeURIComponent(filter)}` }, options);
    if (isFailure(answer)) return { kind: 'failed', failure: answer };
    if (answer.status !== 200) return { kind: 'failed', failure: this.#classify(answer) };
    const body = asBody(answer.body);
    // At most 100 rows: one page; a paged answer is not read as "not there".
    if (!Array.isArray(body['value']) || body['@odata.nextLink'] !== undefined) return { kind: 'failed', failure: { kind: 'transient', status: 200, reason: 'Dynamics answered the read without every record' } };
    return this.readOutcome(records, rowsByKey(body['value'], key));
  }

  async lookupCustomer(query: { email?: string; phone?: string }, options: CallOptions): Promise<ProviderLookupOutcome> {
    const email = query.email?.trim();
    const phone = query.phone?.trim();
    let filter: string;
    if (email) filter = `emailaddress1 eq ${odataString(email.toLowerCase())}`;
    else if (phone) filter = (this.#options.phoneColumns ?? ['telephone1', 'mobilephone']).map((column) => `${column} eq ${odataString(phone)}`).join(' or ');
    else return { kind: 'not_found' };
    const c = this.customer;
    const select = ['contactid', c.firstName, c.lastName, c.loyaltyTier, c.accountStatus, c.loyaltyPoints].join(',');
    // System query options keep their `$` (as Microsoft writes them); only the values are encoded.
    const systemOptions = `$select=${encodeURIComponent(select)}&$filter=${encodeURIComponent(filter)}&$top=1`;
    const answer = await this.send({ method: 'GET', path: `/api/data/v9.2/contacts?${systemOptions}` }, options);
    if (isFailure(answer)) return { kind: 'failed', failure: answer };
    if (answer.status !== 200) return { kind: 'failed', failure: this.#classify(answer) };
    const rows = asBody(answer.body)['value'];
    if (!Array.isArray(rows)) return { kind: 'failed', failure: { kind: 'transient', status: 200, reason: 'Dynamics answered a query without value' } };
    const row = asBody(rows[0]);
    if (typeof row['contactid'] !== 'string') return { kind: 'not_found' };
    return { kind: 'found', customer: customerFromRow(row['contactid'], row, c) };
  }

  /** Reads the service protection headers when Dataverse sends them (see the file comment). */
  protected override readBudget(headers: Headers): void {
    const burst = numberHeader(headers, 'x-ms-ratelimit-burst-remaining-xrm-requests');
    const time = numberHeader(headers, 'x-ms-ratelimit-time-remaining-xrm-requests');
    if (burst === undefined && time === undefined) return;
    const { requests, executionMs, windowMs } = DYNAMICS_WINDOW;
    // Execution time left, as the share of the window's requests it leaves.
    const byTime = time === undefined ? Number.POSITIVE_INFINITY : Math.floor((requests * Math.max(0, time)) / executionMs);
    const remaining = Math.max(0, Math.min(burst ?? Number.POSITIVE_INFINITY, byTime));
    this.lastBudget = { windowLimit: requests, windowRemaining: remaining, windowMs, observedAt: this.now() };
  }

  #classify(answer: ProviderAnswer): CallFailure {
    const error = asBody(asBody(answer.body)['error']);
    const code = typeof error['code'] === 'string' ? error['code'] : undefined;
    const reason = `Dynamics answered ${answer.status}${code ? ` ${code}` : ''}: ${safeCrmText(error['message'])}`;
    const now = this.now();
    if (answer.status === 429) {
      // Dataverse's Retry-After says when to retry; the refusal does not mean the whole
      // 5-minute window is spent (an execution-time or concurrency limit refuses too), so
      // the budget keeps what the service protection headers last said and the worker
      // only waits the Retry-After.
      const wait = retryAfterMs(answer.headers, now) ?? 5_000;
      return { kind: 'rate_limited', status: 429, reason, retryAfterMs: wait };
    }
    if (answer.status === 403) return { kind: 'permission', status: 403, reason };
    if (answer.status === 400 || answer.status === 404 || answer.status === 412 || answer.status === 413) {
      return { kind: 'rejected', status: answer.status, reason, ...(code ? { code } : {}) };
    }
    return classifyStatus(answer.status, reason, answer.headers, now);
  }
}
