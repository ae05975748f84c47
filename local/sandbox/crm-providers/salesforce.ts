/**
 * A Salesforce stand-in that behaves as Salesforce documents:
 * - "Upsert Records Using sObject Collections": `PATCH /services/data/vXX.X/composite/sobjects/Contact/{externalIdField}`,
 *   at most 200 records (201 is a 400 `EXCEEDED_ID_LIMIT`), each with `attributes.type`,
 *   results in request order `{id, success, created, errors}`; `allOrNone: true` rolls every
 *   record back when one fails (`ALL_OR_NONE_OPERATION_ROLLED_BACK`); a create without
 *   `LastName` is `REQUIRED_FIELD_MISSING`; the same external id twice in one call is
 *   `DUPLICATE_VALUE`; other codes (`DUPLICATE_EXTERNAL_ID`, `FIELD_CUSTOM_VALIDATION_EXCEPTION`,
 *   `UNABLE_TO_LOCK_ROW`, ...) come from per-record failure rules;
 * - "Limit Info Header": `Sforce-Limit-Info: api-usage=n/max` on every answer; "API Request
 *   Limits and Allocations": over the rolling 24-hour quota a 403 `REQUEST_LIMIT_EXCEEDED`
 *   without `Retry-After`;
 * - "OAuth 2.0 Client Credentials Flow for Server-to-Server Integration": `POST /services/oauth2/token`
 *   answers `{access_token, instance_url, token_type, issued_at}` (no `expires_in`); a
 *   session past its timeout is a 401 `INVALID_SESSION_ID`;
 * - SOQL `query` (`WHERE Email = '..'`, or `WHERE <field> IN ('..', ..)` on any field) and SOSL `search` (`FIND {..} IN PHONE FIELDS`),
 *   with a malformed (unescaped) search term refused as `MALFORMED_SEARCH`.
 */
import { randomBytes } from 'node:crypto';
import type { RouteDef, SandboxReply } from '../server.ts';
import { isPlainObject } from '../util.ts';
import { ClientCredentialsGrant, ProviderSandboxCore, configRoute, sandboxHandle, type ProviderSandboxBaseOptions, type ProviderSandboxHandle, type ProviderSandboxState } from './base.ts';
import { positiveInteger, samePhone, type ProviderStoredRecord } from './store.ts';

/** Salesforce's sObject Collections maximum. */
export const SALESFORCE_MAX_RECORDS = 200;

/** Options of the Salesforce sandbox. */
export interface SalesforceSandboxOptions extends ProviderSandboxBaseOptions {
  clientId: string;
  clientSecret: string;
  /** The External ID field on Contact (default `GS_External_Id__c`). */
  externalIdField?: string;
  /** Field carrying `sourceUpdatedAt` (default `GS_Source_Updated_At__c`). */
  sourceField?: string;
  /** API requests per rolling 24 hours (default 100,000). */
  dailyApiLimit?: number;
  /** Session timeout (default 2 h). */
  sessionTimeoutMs?: number;
  /** Contacts present from the start (Salesforce field names: Email, Phone, FirstName, ...). */
  customers?: Array<Record<string, unknown>>;
}

/** What `GET /__sandbox/state` shows. */
export interface SalesforceSandboxState extends ProviderSandboxState<{ dailyApiLimit: number; apiUsage: number; sessionTimeoutMs: number }> {
  tokensIssued: number;
}

/** A running Salesforce sandbox. */
export interface SalesforceSandbox extends ProviderSandboxHandle<SalesforceSandboxState> {
  /** Rotates the client secret; the old one is refused by the token endpoint. */
  rotateClientSecret(clientSecret: string): void;
  /** Every session issued so far expires now. */
  expireSessions(): void;
}

const HOUR = 3_600_000;
const sfError = (status: number, errorCode: string, message: string, headers: Record<string, string> = {}): SandboxReply => ({ status, body: [{ message, errorCode }], headers });

/** Reads `FIND {term}`: the term with escapes removed, or an error when a reserved character is unescaped. */
export function parseSoslTerm(query: string): string | { error: string } {
  const start = query.indexOf('FIND {');
  if (start < 0) return { error: 'No search term found. The search term must be enclosed in braces.' };
  let term = '';
  for (let i = start + 6; i < query.length; i += 1) {
    const c = query[i] as string;
    if (c === '\\') {
      term += query[i + 1] ?? '';
      i += 1;
      continue;
    }
    if (c === '}') return term;
    if ('?&|!{[]()^~*:"\'+-'.includes(c)) return { error: `unexpected token: '${c}'` };
    term += c;
  }
  return { error: 'No search term found. The search term must be enclosed in braces.' };
}

/** Reads `WHERE Email = '...'` of a SOQL query (backslash escapes), or undefined. */
export function parseSoqlEmail(query: string): string | undefined {
  const match = /WHERE\s+Email\s*=\s*'((?:[^'\\]|\\.)*)'/i.exec(query);
  if (!match) return undefined;
  return (match[1] as string).replace(/\\(.)/g, (_m, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c] ?? c);
}

/** Reads `WHERE <field> IN ('..', ..)` of a SOQL query (backslash escapes), or undefined. */
export function parseSoqlIn(query: string): { field: string; values: string[] } | undefined {
  const match = /WHERE\s+([A-Za-z][A-Za-z0-9_]*)\s+IN\s*\(((?:\s*'(?:[^'\\]|\\.)*'\s*,?)+)\)/i.exec(query);
  if (!match) return undefined;
  const values = [...(match[2] as string).matchAll(/'((?:[^'\\]|\\.)*)'/g)].map((m) => (m[1] as string).replace(/\\(.)/g, (_m, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c] ?? c));
  return { field: match[1] as string, values };
}

/** Starts the Salesforce sandbox on 127.0.0.1. */
export async function startSalesforceSandbox(options: SalesforceSandboxOptions): Promise<SalesforceSandbox> {
  const core = new ProviderSandboxCore(options, () => `003${randomBytes(8).toString('hex').slice(0, 15)}`);
  const { clock } = core;
  const credentials = new ClientCredentialsGrant(options.clientId, options.clientSecret, clock);
  const externalIdField = options.externalIdField ?? 'GS_External_Id__c';
  const sourceField = options.sourceField ?? 'GS_Source_Updated_At__c';
  let dailyApiLimit = options.dailyApiLimit ?? 100_000;
  let sessionTimeoutMs = options.sessionTimeoutMs ?? 2 * HOUR;
  let usage = new Map<number, number>();
  let url = '';

  const apiUsage = (): number => {
    const hour = Math.floor(clock.now() / HOUR);
    let total = 0;
    for (const [bucket, count] of usage) {
      if (bucket > hour - 24) total += count;
      else usage.delete(bucket);
    }
    return total;
  };

  const reset = (): void => {
    core.reset();
    credentials.reset();
    dailyApiLimit = options.dailyApiLimit ?? 100_000;
    sessionTimeoutMs = options.sessionTimeoutMs ?? 2 * HOUR;
    usage = new Map();
  };

  const recordError = (statusCode: string, message: string, fields: string[] = []) => ({ success: false, errors: [{ statusCode, message, fields }] });

  const upsert = (req: { params: Record<string, string>; json(): unknown }): SandboxReply => {
    if (req.params['sobject'] !== 'Contact') return sfError(404, 'NOT_FOUND', `The requested resource does not exist`);
    if (req.params['field'] !== externalIdField) {
      return sfError(404, 'NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${req.params['field']}`);
    }
    const body = req.json();
    if (!isPlainObject(body) || !Array.isArray(body.records)) return sfError(400, 'JSON_PARSER_ERROR', 'records is required');
    if (body.records.length > SALESFORCE_MAX_RECORDS) {
      return sfError(400, 'EXCEEDED_ID_LIMIT', `record limit reached. cannot submit more than ${SALESFORCE_MAX_RECORDS} records into this call`);
    }
    const records = body.records.map((raw) => (isPlainObject(raw) ? raw : {}));
    for (const record of records) {
      if (!isPlainObject(record.attributes) || record.attributes.type !== 'Contact') {
        return sfError(400, 'INVALID_TYPE', 'Each record must have an attributes map whose type is Contact');
      }
      for (const name of Object.keys(record)) {
        if (name !== 'attributes' && !/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) return sfError(400, 'INVALID_FIELD', `No such column '${name}' on sobject of type Contact`);
      }
    }
    const keys = records.map((record) => record[externalIdField]);
    const planned = records.map((record, index) => {
      const key = keys[index];
      if (typeof key !== 'string' || key === '') return recordError('REQUIRED_FIELD_MISSING', `Required fields are missing: [${externalIdField}]`, [externalIdField]);
      if (keys.indexOf(key) !== keys.lastIndexOf(key)) return recordError('DUPLICATE_VALUE', `Duplicate external id specified: ${key}`, [externalIdField]);
      const rule = core.takeFailure(key);
      if (rule) return recordError(rule.code, rule.message ?? `Injected ${rule.code}`);
      if (!core.world.records.has(key) && (typeof record['LastName'] !== 'string' || record['LastName'] === '')) {
        return recordError('REQUIRED_FIELD_MISSING', 'Required fields are missing: [LastName]', ['LastName']);
      }
      return undefined;
    });
    const anyFailed = planned.some(Boolean);
    if (body.allOrNone === true && anyFailed) {
      return {
        status: 200,
        body: planned.map(
          (failure) =>
            failure ?? recordError('ALL_OR_NONE_OPERATION_ROLLED_BACK', 'Record rolled back because not all records were valid and the request was using AllOrNone header'),
        ),
      };
    }
    const results = records.map((record, index) => {
      const failure = planned[index];
      if (failure) return failure;
      const { attributes: _attributes, ...fields } = record;
      const { record: stored, created } = core.write(keys[index] as string, fields, sourceField);
      return { id: stored.id, success: true, errors: [], created };
    });
    return { status: 200, body: results };
  };

  const selectedRow = (record: ProviderStoredRecord, select: string[]): Record<string, unknown> => ({
    attributes: { type: 'Contact', url: `/services/data/v62.0/sobjects/Contact/${record.id}` },
    ...Object.fromEntries(select.map((name) => [name, name === 'Id' ? record.id : (record.fields[name] ?? null)])),
  });

  const query = (q: string): SandboxReply => {
    const select = /^SELECT\s+(.+?)\s+FROM\s+Contact\b/i.exec(q)?.[1]?.split(',').map((s) => s.trim());
    const among = parseSoqlIn(q);
    if (select && among) {
      const rows = core.records().filter((record) => among.values.includes(String(record.fields[among.field] ?? '')));
      return { status: 200, body: { totalSize: rows.length, done: true, records: rows.map((record) => selectedRow(record, select)) } };
    }
    const email = parseSoqlEmail(q);
    if (!select || email === undefined) return sfError(400, 'MALFORMED_QUERY', 'unexpected token in query');
    const rows = core.records().filter((record) => typeof record.fields['Email'] === 'string' && (record.fields['Email'] as string).toLowerCase() === email.toLowerCase());
    const limited = rows.slice(0, Number(/LIMIT\s+(\d+)/i.exec(q)?.[1] ?? rows.length));
    return { status: 200, body: { totalSize: limited.length, done: true, records: limited.map((record) => selectedRow(record, select)) } };
  };

  const search = (q: string): SandboxReply => {
    const term = parseSoslTerm(q);
    if (typeof term !== 'string') return sfError(400, 'MALFORMED_SEARCH', term.error);
    if (!/\bIN\s+PHONE\s+FIELDS\b/i.test(q)) return sfError(400, 'MALFORMED_SEARCH', 'only IN PHONE FIELDS is supported here');
    const select = /RETURNING\s+Contact\s*\(([^)]*)\)/i.exec(q)?.[1]?.split(',').map((s) => s.trim()) ?? ['Id'];
    const rows = core.records().filter((record) => samePhone(record.fields['Phone'], term) || samePhone(record.fields['MobilePhone'], term));
    return { status: 200, body: { searchRecords: rows.slice(0, Number(/LIMIT\s+(\d+)/i.exec(q)?.[1] ?? rows.length)).map((record) => selectedRow(record, select)) } };
  };

  const routes: RouteDef[] = [
    credentials.tokenRoute('/services/oauth2/token', {
      unsupportedGrant: () => ({ status: 400, body: { error: 'unsupported_grant_type', error_description: 'grant type not supported' } }),
      invalidClient: () => ({ status: 400, body: { error: 'invalid_client', error_description: 'invalid client credentials' } }),
      grant: () => {
        const token = `00D${randomBytes(4).toString('hex')}!${randomBytes(24).toString('base64url')}`;
        credentials.issue(token, sessionTimeoutMs);
        return {
          status: 200,
          body: { access_token: token, instance_url: url, id: `${url}/id/00D/005`, token_type: 'Bearer', issued_at: String(clock.now()), signature: randomBytes(8).toString('base64'), scope: 'api' },
        };
      },
    }),
    { method: 'PATCH', path: '/services/data/:version/composite/sobjects/:sobject/:field', operation: 'upsertCollection', handler: upsert },
    { method: 'GET', path: '/services/data/:version/query', operation: 'query', handler: (req) => query(req.query.get('q') ?? '') },
    { method: 'GET', path: '/services/data/:version/search', operation: 'search', handler: (req) => search(req.query.get('q') ?? '') },
  ];

  const state = (): SalesforceSandboxState => ({ ...core.state({ dailyApiLimit, apiUsage: apiUsage(), sessionTimeoutMs }), tokensIssued: credentials.issued });

  const server = await core.start(options.port, state, reset, {
    routes,
    controlRoutes: [
      configRoute((body) => {
        dailyApiLimit = positiveInteger(body, 'dailyApiLimit') ?? dailyApiLimit;
        sessionTimeoutMs = positiveInteger(body, 'sessionTimeoutMs') ?? sessionTimeoutMs;
      }, () => state().config),
      ...credentials.controlRoutes('/__sandbox/sessions/expire'),
    ],
    errorReply: (status, message) => sfError(status, status === 400 ? 'JSON_PARSER_ERROR' : status === 404 ? 'NOT_FOUND' : 'UNKNOWN_EXCEPTION', message),
    commonHeaders: () => ({ 'sforce-limit-info': `api-usage=${apiUsage()}/${dailyApiLimit}` }),
    guard: (req): SandboxReply | undefined => {
      if (req.operation === 'token') return undefined;
      if (!credentials.admits(req)) return sfError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
      if (apiUsage() >= dailyApiLimit) return sfError(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
      const hour = Math.floor(clock.now() / HOUR);
      usage.set(hour, (usage.get(hour) ?? 0) + 1);
      return undefined;
    },
  });
  url = server.url;

  return { ...sandboxHandle(server, core, state, reset), rotateClientSecret: (next) => credentials.rotate(next), expireSessions: () => credentials.expireAll() };
}
