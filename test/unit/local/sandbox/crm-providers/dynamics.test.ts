/**
 * The Dynamics 365 sandbox reproduces Dataverse's documented behaviour. Sources: "UpsertMultiple
 * Action" (Targets with @odata.type, 204 No Content), "Use bulk operation messages"
 * (all-or-nothing), "Service protection API limits" (6,000 requests per 5-minute sliding
 * window, 429 with Retry-After), "Microsoft identity platform and the OAuth 2.0 client
 * credentials flow" (token endpoint, `{resource}/.default` scope).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCrmProviderSandbox, type DynamicsSandbox } from '#local/sandbox/crm-providers/index.ts';
import { form, manualClock, send } from './support.ts';

let sandbox: DynamicsSandbox;
let clock: ReturnType<typeof manualClock>;
let auth: Record<string, string>;
const upsertUrl = (): string => `${sandbox.url}/api/data/v9.2/contacts/Microsoft.Dynamics.CRM.UpsertMultiple`;
const target = (id: string, extra: Record<string, unknown> = {}) => ({
  '@odata.type': 'Microsoft.Dynamics.CRM.contact',
  '@odata.id': `contacts(gs_externalid='${id.replace(/'/g, "''")}')`,
  gs_attr_tier: 'gold',
  ...extra,
});
const tokenRequest = (secret: string, scope = `${sandbox.url}/.default`) =>
  form(`${sandbox.url}/tenant-1/oauth2/v2.0/token`, { grant_type: 'client_credentials', client_id: 'cid', client_secret: secret, scope });

beforeEach(async () => {
  clock = manualClock();
  sandbox = await startCrmProviderSandbox('dynamics', { tenantId: 'tenant-1', clientId: 'cid', clientSecret: 'secret', clock: clock.now });
  auth = { authorization: `Bearer ${(await tokenRequest('secret')).body.access_token}` };
});
afterEach(async () => {
  await sandbox.close();
});

describe('Dynamics 365 sandbox as documented', () => {
  it('issues identity platform tokens for the {resource}/.default scope only, and refuses a wrong secret with 401', async () => {
    // Act
    const ok = await tokenRequest('secret');
    const badScope = await tokenRequest('secret', 'https://elsewhere/.default');
    const badSecret = await tokenRequest('nope');

    // Assess
    expect(ok.body).toMatchObject({ token_type: 'Bearer', expires_in: 3_599 });
    expect(badScope).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
    expect(badSecret).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
  });

  it('upserts by the alternate key with 204 and no body, merging columns', async () => {
    // Act
    const first = await send(upsertUrl(), 'POST', { Targets: [target("o'brien", { gs_consent_marketing: true })] }, auth);
    await send(upsertUrl(), 'POST', { Targets: [target("o'brien", { gs_attr_tier: 'platinum' })] }, auth);

    // Assess
    expect(first).toMatchObject({ status: 204, body: undefined });
    expect(sandbox.state().records["o'brien"]).toMatchObject({ writes: 2, fields: { gs_externalid: "o'brien", gs_consent_marketing: true, gs_attr_tier: 'platinum' } });
  });

  it('fails the whole call and writes nothing when one target fails, or lacks @odata.type', async () => {
    // Prepare
    await send(`${sandbox.url}/__sandbox/record-failures`, 'POST', { rules: [{ externalId: 'bad', code: '0x80044331' }] });

    // Act
    const failing = await send(upsertUrl(), 'POST', { Targets: [target('good'), target('bad')] }, auth);
    const untyped = await send(upsertUrl(), 'POST', { Targets: [{ ...target('good'), '@odata.type': undefined }] }, auth);

    // Assess
    expect(failing).toMatchObject({ status: 400, body: { error: { code: '0x80044331' } } });
    expect(untyped.status).toBe(400);
    expect(sandbox.state().records).toEqual({});
  });

  it('answers 429 with Retry-After once the 5-minute window is full (6,000 by default, lowered here)', async () => {
    // Prepare
    await send(`${sandbox.url}/__sandbox/config`, 'POST', { requestsPerWindow: 3 });
    for (let i = 0; i < 3; i += 1) await send(upsertUrl(), 'POST', { Targets: [target(`s${i}`)] }, auth);

    // Act
    const refused = await send(upsertUrl(), 'POST', { Targets: [target('s3')] }, auth);
    clock.advance(300_001);
    const later = await send(upsertUrl(), 'POST', { Targets: [target('s3')] }, auth);

    // Assess
    expect(refused).toMatchObject({ status: 429, body: { error: { code: '0x80072322' } } });
    expect(refused.headers.get('retry-after')).toBe('300');
    // The token (3,599 s) is still valid after 5 minutes.
    expect(later.status).toBe(204);
  });

  it('keeps 6,000 requests per 5 minutes as the default limit', () => {
    expect(sandbox.state().config.requestsPerWindow).toBe(6_000);
  });

  it('answers 401 for an expired token and 403 for a missing privilege', async () => {
    // Act
    sandbox.setPrivileges({ read: false });
    const forbidden = await send(`${sandbox.url}/api/data/v9.2/contacts?$filter=${encodeURIComponent("emailaddress1 eq 'a@example.com'")}`, 'GET', undefined, auth);
    sandbox.expireTokens();
    const expired = await send(upsertUrl(), 'POST', { Targets: [target('a')] }, auth);

    // Assess
    expect(forbidden).toMatchObject({ status: 403, body: { error: { code: '0x80040220' } } });
    expect(expired.status).toBe(401);
  });
});
