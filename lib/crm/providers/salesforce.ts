/**
 * Salesforce REST API (docs/api.md section 6), a thin `fetch` adapter, no SDK.
 *
 * Upsert: `PATCH /services/data/v62.0/composite/sobjects/Contact/{SALESFORCE_EXTERNAL_ID_FIELD}`
 * `{allOrNone: false, records}` ("Upsert Records Using sObject Collections"): at most 200
 * records, results in request order `{id, success, created, errors: [{statusCode, message, fields}]}`.
 *
 * Fields (custom fields on Contact; names are `{prefix}` + suffix + `__c`, default prefix `GS_`):
 *   externalId -> SALESFORCE_EXTERNAL_ID_FIELD, emailHash -> Email_Hash, phoneHash -> Phone_Hash,
 *   lastInteraction -> Last_Interaction, sourceUpdatedAt -> Source_Updated_At,
 *   consentFlags.k -> Consent_k, attributes.k -> Attr_k, channelContext.k -> Channel_k.
 * Salesforce sets only the fields it is sent, so a key not sent keeps its value. `LastName`
 * is required on Contact: the adapter sends `lastNamePlaceholder` (default `Guest`) unless
 * it is set to null (then creating a contact fails with REQUIRED_FIELD_MISSING, permanent).
 *
 * Classification: per record DUPLICATE_VALUE, DUPLICATE_EXTERNAL_ID, REQUIRED_FIELD_MISSING,
 * FIELD_CUSTOM_VALIDATION_EXCEPTION (and any other code) permanent, UNABLE_TO_LOCK_ROW
 * transient; 403 REQUEST_LIMIT_EXCEEDED (24-hour quota, no Retry-After) stops until the
 * quota frees (probe); 401 INVALID_SESSION_ID renews the session once; other 403s lost
 * permission (permanent). `Sforce-Limit-Info: api-usage=n/max` feeds the budget.
 * Lookup: SOQL on Email, SOSL `FIND {..} IN PHONE FIELDS` for a phone.
 * Read (before re-sending a record whose earlier send went unanswered): SOQL
 * `SELECT <External ID field>, <fields> FROM Contact WHERE <External ID field> IN (..)`.
 */
import type { CrmRecord } from '#lib/jobs';
import { safeCrmText } from '../batch-upsert.ts';
import { classifyRecordCode, type CallFailure, type CallOptions, type CrmAdapter, type ProviderLookupOutcome, type ProviderReadOutcome, type ProviderRecordResult, type ProviderUpsertOutcome, type UpsertOptions } from '../adapter.ts';
import { ProviderAdapterBase, asBody, customerFromRow, rowsByKey, type Body, type CustomerFieldNames, type ProviderConnection } from './base.ts';
import { classifyStatus, isFailure, type ProviderAnswer } from './call.ts';

/** Salesforce's documented maximum records per sObject Collections call. */
export const SALESFORCE_BATCH_LIMIT = 200;

/** The REST API version the adapter speaks. */
export const SALESFORCE_API_VERSION = 'v62.0';

/** Contact fields the lookup reads into the customer shape. */
export type SalesforceCustomerFields = CustomerFieldNames;

/** How a Salesforce adapter is built. */
export interface SalesforceAdapterOptions extends ProviderConnection {
  /** `CRM_BASE_URL`; default: the `instance_url` the token endpoint answers. */
  baseUrl?: string;
  /** `SALESFORCE_EXTERNAL_ID_FIELD`, e.g. `GS_External_Id__c`. */
  externalIdField: string;
  fieldPrefix?: string;
  /** `LastName` sent with every record (Contact requires it); null sends none. */
  lastNamePlaceholder?: string | null;
  customerFields?: Partial<SalesforceCustomerFields>;
}

const DEFAULT_CUSTOMER: SalesforceCustomerFields = { firstName: 'FirstName', lastName: 'LastName', loyaltyTier: 'GS_Loyalty_Tier__c', accountStatus: 'GS_Account_Status__c', loyaltyPoints: 'GS_Loyalty_Points__c' };

/** A map key as a custom field name part: letters, digits, single underscores, starting with a letter. */
function fieldSafeKey(key: string): string {
  const safe = key.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  return safe === '' ? 'X' : /^[A-Za-z]/.test(safe) ? safe : `K_${safe}`;
}

/** A string literal for SOQL: backslash and quote escaped (Salesforce "Quoted String Escape Sequences"). */
export function soqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}'`;
}

/** A SOSL search term: every reserved character escaped with a backslash ("FIND {SearchQuery}"). */
export function soslTerm(value: string): string {
  return value.replace(/[?&|!{}[\]()^~*:\\"'+-]/g, (c) => `\\${c}`);
}

/** Salesforce error bodies are arrays of `{errorCode, message}`. */
function firstError(body: unknown): { code?: string; message: string } {
  const first = Array.isArray(body) ? asBody(body[0]) : asBody(body);
  const code = typeof first['errorCode'] === 'string' ? first['errorCode'] : undefined;
  return { ...(code ? { code } : {}), message: safeCrmText(first['message']) };
}

/** The Salesforce adapter. */
export class SalesforceAdapter extends ProviderAdapterBase<'salesforce'> implements CrmAdapter {
  readonly #options: SalesforceAdapterOptions;

  constructor(options: SalesforceAdapterOptions) {
    const p = options.fieldPrefix ?? 'GS_';
    const maps = { consent: 'Consent', attr: 'Attr', channel: 'Channel' } as const;
    super({ provider: 'salesforce', what: 'Salesforce', batchLimit: SALESFORCE_BATCH_LIMIT }, options, {
      customer: { ...DEFAULT_CUSTOMER, ...options.customerFields },
      fields: { lastInteraction: `${p}Last_Interaction__c`, sourceUpdatedAt: `${p}Source_Updated_At__c`, emailHash: `${p}Email_Hash__c`, phoneHash: `${p}Phone_Hash__c`, entry: (kind, key) => `${p}${maps[kind]}_${fieldSafeKey(key)}__c` },
    });
    this.#options = options;
  }

  /** The Contact fields a record maps to (see the file comment). */
  fields(record: CrmRecord): Record<string, string | number | boolean> {
    const placeholder = this.#options.lastNamePlaceholder === undefined ? 'Guest' : this.#options.lastNamePlaceholder;
    return { [this.#options.externalIdField]: record.externalId, ...(placeholder === null ? {} : { LastName: placeholder }), ...this.fieldsOf(record) };
  }

  async upsert(chunk: readonly CrmRecord[], options: UpsertOptions): Promise<ProviderUpsertOutcome> {
    const unsent = this.unsent(chunk.length, 200, (limit, size) => `Salesforce takes at most ${limit} records per call; got ${size}`);
    if (unsent) return unsent;
    const records = chunk.map((record) => ({ attributes: { type: 'Contact' }, ...this.fields(record) }));
    const path = `/services/data/${SALESFORCE_API_VERSION}/composite/sobjects/Contact/${encodeURIComponent(this.#options.externalIdField)}`;
    const answer = await this.send({ method: 'PATCH', path, body: { allOrNone: false, records } }, options);
    if (isFailure(answer)) return { kind: 'failed', failure: answer };
    if (answer.status !== 200) return { kind: 'failed', failure: this.#classify(answer) };
    const body = answer.body;
    if (!Array.isArray(body) || body.length !== chunk.length) {
      return { kind: 'failed', failure: { kind: 'transient', status: 200, reason: `Salesforce answered ${Array.isArray(body) ? body.length : 'no'} results for ${chunk.length} records` } };
    }
    const results = chunk.map((record, index): ProviderRecordResult => {
      const result = asBody(body[index]);
      if (result['success'] === true) return { externalId: record.externalId, status: result['created'] === true ? 'created' : 'updated' };
      const errors = Array.isArray(result['errors']) ? result['errors'].map(asBody) : [];
      const first = errors[0] ?? {};
      const code = typeof first['statusCode'] === 'string' ? first['statusCode'] : 'UNKNOWN_ERROR';
      // Transient only when every error is: one permanent problem makes the record permanent.
      const classification = errors.length > 0 && errors.every((e) => classifyRecordCode(String(e['statusCode'])) === 'transient') ? 'transient' : classifyRecordCode(code);
      return { externalId: record.externalId, status: 'failed', error: { code, message: safeCrmText(first['message']), classification } };
    });
    return { kind: 'ok', status: 200, results };
  }

  async readRecords(records: readonly CrmRecord[], options: CallOptions): Promise<ProviderReadOutcome> {
    const unread = this.unread(records.length);
    if (unread) return unread;
    const key = this.#options.externalIdField;
    const select = [...new Set([key, ...this.fieldNamesOf(records)])].join(', ');
    const soql = `SELECT ${select} FROM Contact WHERE ${key} IN (${records.map((record) => soqlString(record.externalId)).join(', ')})`;
    const answer = await this.send({ method: 'GET', path: `/services/data/${SALESFORCE_API_VERSION}/query?q=${encodeURIComponent(soql)}` }, options);
    if (isFailure(answer)) return { kind: 'failed', failure: answer };
    if (answer.status !== 200) return { kind: 'failed', failure: this.#classify(answer) };
    const body = asBody(answer.body);
    // At most 200 rows: one page; a query left unfinished is not read as "not there".
    if (!Array.isArray(body['records']) || body['done'] !== true) return { kind: 'failed', failure: { kind: 'transient', status: 200, reason: 'Salesforce answered the read without every record' } };
    return this.readOutcome(records, rowsByKey(body['records'], key));
  }

  async lookupCustomer(query: { email?: string; phone?: string }, options: CallOptions): Promise<ProviderLookupOutcome> {
    const email = query.email?.trim();
    const phone = query.phone?.trim();
    const c = this.customer;
    const select = ['Id', c.firstName, c.lastName, c.loyaltyTier, c.accountStatus, c.loyaltyPoints].join(', ');
    let path: string;
    if (email) {
      const soql = `SELECT ${select} FROM Contact WHERE Email = ${soqlString(email.toLowerCase())} LIMIT 1`;
      path = `/services/data/${SALESFORCE_API_VERSION}/query?q=${encodeURIComponent(soql)}`;
    } else if (phone) {
      const sosl = `FIND {${soslTerm(phone)}} IN PHONE FIELDS RETURNING Contact(${select}) LIMIT 1`;
      path = `/services/data/${SALESFORCE_API_VERSION}/search?q=${encodeURIComponent(sosl)}`;
    } else {
      return { kind: 'not_found' };
    }
    const answer = await this.send({ method: 'GET', path }, options);
    if (isFailure(answer)) return { kind: 'failed', failure: answer };
    if (answer.status !== 200) return { kind: 'failed', failure: this.#classify(answer) };
    const body = asBody(answer.body);
    const rows = Array.isArray(body['records']) ? body['records'] : Array.isArray(body['searchRecords']) ? body['searchRecords'] : undefined;
    if (!rows) return { kind: 'failed', failure: { kind: 'transient', status: 200, reason: 'Salesforce answered a query without records' } };
    const row = asBody(rows[0]);
    if (typeof row['Id'] !== 'string') return { kind: 'not_found' };
    return { kind: 'found', customer: customerFromRow(row['Id'], row, c) };
  }

  /** A session past its timeout can also come back as `INVALID_SESSION_ID`. */
  protected override refusesToken(answer: ProviderAnswer): boolean {
    return answer.status === 401 || firstError(answer.body).code === 'INVALID_SESSION_ID';
  }

  /** Reads `Sforce-Limit-Info: api-usage=n/max` (the rolling 24-hour quota). */
  protected override readBudget(headers: Headers): void {
    const match = /api-usage=(\d+)\/(\d+)/.exec(headers.get('sforce-limit-info') ?? '');
    if (!match) return;
    const used = Number(match[1]);
    const limit = Number(match[2]);
    this.lastBudget = { dailyLimit: limit, dailyRemaining: Math.max(0, limit - used), observedAt: this.now() };
  }

  #classify(answer: ProviderAnswer): CallFailure {
    const { code, message } = firstError(answer.body);
    const reason = `Salesforce answered ${answer.status}${code ? ` ${code}` : ''}: ${message}`;
    if (code === 'REQUEST_LIMIT_EXCEEDED') {
      // A rolling 24-hour quota: no reset time is given, capacity frees gradually; probe.
      return { kind: 'quota_exhausted', status: answer.status, reason, probeAfterMs: 60_000 };
    }
    if (answer.status === 401 || code === 'INVALID_SESSION_ID') return { kind: 'credentials', status: answer.status, reason };
    if (answer.status === 403) return { kind: 'permission', status: 403, reason };
    if (answer.status === 400 || answer.status === 404 || answer.status === 413) return { kind: 'rejected', status: answer.status, reason, ...(code ? { code } : {}) };
    return classifyStatus(answer.status, reason, answer.headers, this.now());
  }
}
