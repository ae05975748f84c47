import { beforeEach, describe, expect, it } from 'vitest';
import { DynamicsAdapter, odataString } from '#lib/crm/providers/dynamics.ts';
import { ClientCredentialsTokenProvider } from '#lib/crm/providers/oauth.ts';
import { startDynamicsSandbox } from '#local/sandbox/crm-providers/index.ts';
import { SECRET_ID, chunkOf, clock, control, laterRecordFactory, lookupStories, recordFactory, readStories, sandboxPerTest, secretAnswers, secretCache, secretReads } from './support.ts';

const TENANT = '11111111-2222-3333-4444-555555555555';
const sandbox = sandboxPerTest(
  (now) => startDynamicsSandbox({ tenantId: TENANT, clientId: 'dv-client', clientSecret: 'dv-secret-1', clock: now }),
  () => ({ tenantId: TENANT, clientId: 'dv-client', clientSecret: 'dv-secret-1' }),
);
const adapterFor = (): DynamicsAdapter => {
  const tokens = new ClientCredentialsTokenProvider({
    secrets: secretCache(),
    secretId: SECRET_ID,
    flavour: 'dynamics',
    resourceUrl: sandbox().url,
    // CRM_TOKEN_URL pointing at the stand-in, with the tenant filled in from the secret.
    tokenUrl: `${sandbox().url}/{tenantId}/oauth2/v2.0/token`,
    now: clock.now,
  });
  return new DynamicsAdapter({ baseUrl: sandbox().url, alternateKey: 'gs_externalid', tokens, now: clock.now });
};
const call = { timeoutMs: 2_000 };

describe('DynamicsAdapter upsert', () => {
  it('upserts a chunk of 100 with UpsertMultiple by the alternate key', async () => {
    // Prepare
    const chunk = chunkOf(100);

    // Act
    const outcome = await adapterFor().upsert(chunk, call);

    // Assess
    expect(outcome).toMatchObject({ kind: 'ok', status: 204 });
    if (outcome.kind !== 'ok') return;
    expect(outcome.results.map((r) => r.externalId)).toEqual(chunk.map((r) => r.externalId));
    expect(sandbox().state().records['session-42']?.fields).toMatchObject({
      gs_externalid: 'session-42',
      gs_emailhash: 'a'.repeat(64),
      gs_consent_marketing: true,
      gs_attr_tier: 'gold',
      gs_sourceupdatedat: '2025-03-01T10:00:00.000Z',
    });
  });

  it('refuses a chunk over the batch limit (101) without sending it', async () => {
    // Act
    const outcome = await adapterFor().upsert(chunkOf(101), call);

    // Assess
    expect(outcome).toMatchObject({ kind: 'failed', failure: { kind: 'rejected' } });
    expect(sandbox().state().requests).toHaveLength(0);
  });

  it('reports a failing target as a rejected call with the provider code, nothing written (all or nothing)', async () => {
    // Prepare
    await control(sandbox().url, '/__sandbox/record-failures', { rules: [{ externalId: 'bad', code: '0x80044331', message: 'A validation error occurred.' }] });

    // Act
    const outcome = await adapterFor().upsert([recordFactory('good'), recordFactory('bad')], call);

    // Assess
    expect(outcome).toMatchObject({ kind: 'failed', failure: { kind: 'rejected', status: 400, code: '0x80044331' } });
    expect(sandbox().state().records).toEqual({});
  });

  it('keeps columns a later job does not carry', async () => {
    // Prepare
    const adapter = adapterFor();
    await adapter.upsert([recordFactory("it's-1")], call);

    // Act
    await adapter.upsert([laterRecordFactory("it's-1")], call);

    // Assess
    expect(sandbox().state().records["it's-1"]).toMatchObject({
      writes: 2,
      fields: { gs_emailhash: 'a'.repeat(64), gs_consent_marketing: true, gs_attr_tier: 'gold', gs_attr_lang: 'en', gs_sourceupdatedat: '2025-03-01T11:00:00.000Z' },
    });
  });
});

describe('DynamicsAdapter limits and tokens', () => {
  it('classifies the service protection 429 as rate limited with the Retry-After wait', async () => {
    // Prepare
    await control(sandbox().url, '/__sandbox/config', { requestsPerWindow: 2 });
    const adapter = adapterFor();
    await adapter.upsert([recordFactory('a')], call);
    clock.advance(60_000);
    await adapter.upsert([recordFactory('b')], call);

    // Act
    const outcome = await adapter.upsert([recordFactory('c')], call);

    // Assess: the first request leaves the 5-minute window 240 s from now.
    expect(outcome).toMatchObject({ kind: 'failed', failure: { kind: 'rate_limited', status: 429, retryAfterMs: 240_000 } });
  });

  it('gets a new token after a 401 and carries on, with one token request', async () => {
    // Prepare
    const adapter = adapterFor();
    await adapter.upsert([recordFactory('a')], call);
    sandbox().expireTokens();

    // Act
    const outcome = await adapter.upsert([recordFactory('b')], call);

    // Assess
    expect(outcome).toMatchObject({ kind: 'ok' });
    expect(sandbox().state().tokensIssued).toBe(2);
  });

  it('re-reads the secret when the identity platform refuses the client secret, and recovers', async () => {
    // Prepare
    secretAnswers({ tenantId: TENANT, clientId: 'dv-client', clientSecret: 'dv-secret-1' }, { tenantId: TENANT, clientId: 'dv-client', clientSecret: 'dv-secret-2' });
    sandbox().rotateClientSecret('dv-secret-2');

    // Act
    const outcome = await adapterFor().upsert([recordFactory('a')], call);

    // Assess
    expect(outcome).toMatchObject({ kind: 'ok' });
    expect(secretReads()).toBe(2);
  });

  it('classifies a missing privilege (403) as lost permission', async () => {
    // Prepare
    sandbox().setPrivileges({ write: false });

    // Act
    const outcome = await adapterFor().upsert([recordFactory('a')], call);

    // Assess
    expect(outcome).toMatchObject({ kind: 'failed', failure: { kind: 'permission', status: 403 } });
  });
});

describe('DynamicsAdapter lookup', () => {
  beforeEach(async () => {
    await control(sandbox().url, '/__sandbox/customers', {
      customers: [{ emailaddress1: "o'brien@example.com", mobilephone: '+1 555 010 2000', firstname: 'Pat', lastname: "O'Brien", gs_loyaltytier: 'gold', gs_accountstatus: 'active', gs_loyaltypoints: 900 }],
    });
  });

  it('finds a contact by email with an escaped quote in the filter', async () => {
    // Act
    const outcome = await adapterFor().lookupCustomer({ email: "O'Brien@example.com" }, call);

    // Assess
    expect(outcome).toEqual({
      kind: 'found',
      customer: { id: expect.any(String), firstName: 'Pat', lastName: "O'Brien", loyaltyTier: 'gold', accountStatus: 'active', loyaltyPoints: 900 },
    });
  });

  lookupStories((query) => adapterFor().lookupCustomer(query, call), { phoneStory: 'finds a contact by a phone column', phone: '+15550102000', firstName: 'Pat' });

  it('doubles single quotes in OData literals', () => {
    expect(odataString("o'brien")).toBe("'o''brien'");
  });
});

describe('DynamicsAdapter read (before re-sending a record whose send went unanswered)', () => {
  readStories(() => ({
    read: (records) => adapterFor().readRecords(records, call),
    upsert: (records) => adapterFor().upsert(records, call),
    state: () => sandbox().state(),
    addFault: (rule) => sandbox().faults.add([rule as never]),
    operation: 'queryContacts',
    sentValues: (record) => {
      const { '@odata.type': _type, '@odata.id': _id, ...values } = adapterFor().target(record);
      return values;
    },
  }));
});
