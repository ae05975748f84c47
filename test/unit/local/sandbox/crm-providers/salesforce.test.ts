/**
 * The Salesforce sandbox reproduces Salesforce's documented behaviour. Sources: "Upsert Records
 * Using sObject Collections" (200 records, order, allOrNone), "Limit Info Header"
 * (Sforce-Limit-Info), "API Request Limits and Allocations" (REQUEST_LIMIT_EXCEEDED),
 * "OAuth 2.0 Client Credentials Flow for Server-to-Server Integration" (token endpoint),
 * "SOSL Syntax: FIND {SearchQuery}" (reserved characters must be escaped).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCrmProviderSandbox, type SalesforceSandbox } from '#local/sandbox/crm-providers/index.ts';
import { form, manualClock, send } from './support.ts';

let sandbox: SalesforceSandbox;
let clock: ReturnType<typeof manualClock>;
let auth: Record<string, string>;
const upsertUrl = (): string => `${sandbox.url}/services/data/v62.0/composite/sobjects/Contact/GS_External_Id__c`;
const contact = (id: string, extra: Record<string, unknown> = {}) => ({ attributes: { type: 'Contact' }, GS_External_Id__c: id, LastName: 'Guest', ...extra });

beforeEach(async () => {
  clock = manualClock();
  sandbox = await startCrmProviderSandbox('salesforce', { clientId: 'cid', clientSecret: 'secret', clock: clock.now });
  const token = await form(`${sandbox.url}/services/oauth2/token`, { grant_type: 'client_credentials', client_id: 'cid', client_secret: 'secret' });
  auth = { authorization: `Bearer ${token.body.access_token}` };
});
afterEach(async () => {
  await sandbox.close();
});

describe('Salesforce sandbox as documented', () => {
  it('issues client-credentials tokens with the instance URL and no expires_in, and refuses a wrong secret with 400 invalid_client', async () => {
    // Act
    const ok = await form(`${sandbox.url}/services/oauth2/token`, { grant_type: 'client_credentials', client_id: 'cid', client_secret: 'secret' });
    const refused = await form(`${sandbox.url}/services/oauth2/token`, { grant_type: 'client_credentials', client_id: 'cid', client_secret: 'nope' });

    // Assess
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ token_type: 'Bearer', instance_url: sandbox.url });
    expect(ok.body).not.toHaveProperty('expires_in');
    expect(refused).toEqual({ status: 400, body: { error: 'invalid_client', error_description: 'invalid client credentials' } });
  });

  it('takes 200 records and refuses 201 with EXCEEDED_ID_LIMIT', async () => {
    // Act
    const ok = await send(upsertUrl(), 'PATCH', { allOrNone: false, records: Array.from({ length: 200 }, (_, i) => contact(`s${i}`)) }, auth);
    const over = await send(upsertUrl(), 'PATCH', { allOrNone: false, records: Array.from({ length: 201 }, (_, i) => contact(`t${i}`)) }, auth);

    // Assess
    expect(ok.status).toBe(200);
    expect(ok.body).toHaveLength(200);
    expect(ok.body[0]).toEqual({ id: expect.stringMatching(/^003/), success: true, errors: [], created: true });
    expect(over).toMatchObject({ status: 400, body: [{ errorCode: 'EXCEEDED_ID_LIMIT' }] });
  });

  it('answers per-record errors in order; allOrNone true rolls every record back', async () => {
    // Prepare
    const records = [contact('a'), contact('b', { LastName: undefined }), contact('c')];

    // Act
    const rolledBack = await send(upsertUrl(), 'PATCH', { allOrNone: true, records }, auth);
    const stateAfterRollback = Object.keys(sandbox.state().records);
    const partial = await send(upsertUrl(), 'PATCH', { allOrNone: false, records }, auth);

    // Assess
    expect(rolledBack.body.map((r: any) => r.success)).toEqual([false, false, false]);
    expect(rolledBack.body[0].errors[0].statusCode).toBe('ALL_OR_NONE_OPERATION_ROLLED_BACK');
    expect(rolledBack.body[1].errors[0]).toMatchObject({ statusCode: 'REQUIRED_FIELD_MISSING', fields: ['LastName'] });
    expect(stateAfterRollback).toEqual([]);
    expect(partial.body.map((r: any) => r.success)).toEqual([true, false, true]);
    expect(Object.keys(sandbox.state().records).sort()).toEqual(['a', 'c']);
  });

  it('answers DUPLICATE_VALUE for one external id twice in a call', async () => {
    // Act
    const answer = await send(upsertUrl(), 'PATCH', { records: [contact('a'), contact('a')] }, auth);

    // Assess
    expect(answer.body.map((r: any) => r.errors[0]?.statusCode)).toEqual(['DUPLICATE_VALUE', 'DUPLICATE_VALUE']);
  });

  it('sends Sforce-Limit-Info on every answer and 403 REQUEST_LIMIT_EXCEEDED without Retry-After over the 24-hour quota', async () => {
    // Prepare
    await send(`${sandbox.url}/__sandbox/config`, 'POST', { dailyApiLimit: 1 });

    // Act
    const first = await send(upsertUrl(), 'PATCH', { records: [contact('a')] }, auth);
    const refused = await send(upsertUrl(), 'PATCH', { records: [contact('b')] }, auth);
    clock.advance(25 * 3_600_000);
    const tomorrow = await send(upsertUrl(), 'PATCH', { records: [contact('b')] }, { authorization: auth.authorization as string });

    // Assess
    expect(first.headers.get('sforce-limit-info')).toBe('api-usage=1/1');
    expect(refused).toMatchObject({ status: 403, body: [{ errorCode: 'REQUEST_LIMIT_EXCEEDED' }] });
    expect(refused.headers.get('retry-after')).toBeNull();
    expect(refused.headers.get('sforce-limit-info')).toBe('api-usage=1/1');
    // The 2-hour session expired meanwhile: INVALID_SESSION_ID.
    expect(tomorrow).toMatchObject({ status: 401, body: [{ errorCode: 'INVALID_SESSION_ID' }] });
  });

  it('refuses an unescaped SOSL term and finds by phone with an escaped one', async () => {
    // Prepare
    await send(`${sandbox.url}/__sandbox/customers`, 'POST', { customers: [{ Phone: '+1 (555) 010-2000', LastName: 'Lovelace' }] });
    const search = (q: string) => send(`${sandbox.url}/services/data/v62.0/search?q=${encodeURIComponent(q)}`, 'GET', undefined, auth);

    // Act
    const raw = await search('FIND {+1 (555) 010-2000} IN PHONE FIELDS RETURNING Contact(Id, LastName)');
    const escaped = await search('FIND {\\+1 \\(555\\) 010\\-2000} IN PHONE FIELDS RETURNING Contact(Id, LastName)');

    // Assess
    expect(raw).toMatchObject({ status: 400, body: [{ errorCode: 'MALFORMED_SEARCH' }] });
    expect(escaped.body.searchRecords).toEqual([expect.objectContaining({ LastName: 'Lovelace' })]);
  });
});
