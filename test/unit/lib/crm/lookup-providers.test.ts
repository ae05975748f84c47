/**
 * The pre-chat lookup (`CustomerLookup`, with its budget, cache and breaker) on each
 * provider's adapter, against that provider's sandbox on 127.0.0.1: found, not found, the
 * provider's refusal (HubSpot's search limit, Salesforce's quota, Dynamics' window) as an
 * unavailable answer the page continues without, an expired token renewed on the way, a
 * missing scope or privilege. And `sharedCustomerLookup` picks the adapter `CRM_PROVIDER` names.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { resetSharedAuthForTests } from '#lib/auth/shared.ts';
import { loadConfig } from '#lib/config';
import { CustomerLookup, resetSharedCustomerLookupForTests, sharedCustomerLookup } from '#lib/crm';
import { DynamicsAdapter } from '#lib/crm/providers/dynamics.ts';
import { HubSpotAdapter } from '#lib/crm/providers/hubspot.ts';
import { ClientCredentialsTokenProvider, SecretTokenProvider } from '#lib/crm/providers/oauth.ts';
import { SalesforceAdapter } from '#lib/crm/providers/salesforce.ts';
import { HUBSPOT_SCOPES, startDynamicsSandbox, startHubSpotSandbox, startSalesforceSandbox } from '#local/sandbox/crm-providers/index.ts';
import { SECRET_ID, clock, control, sandboxPerTest, secretAnswers, secretCache, secretReads } from './providers/support.ts';

/** Distinct guests, so the cache never answers for one another. */
const guest = (n: number): string => `guest-${n}@example.com`;

describe('Pre-chat lookup on HubSpot (contacts search)', () => {
  const sandbox = sandboxPerTest(
    (now) =>
      startHubSpotSandbox({
        accessToken: 'pat-1',
        clock: now,
        searchLagMs: 0,
        customers: [{ email: 'ada@example.com', phone: '+1 555 010 2000', firstname: 'Ada', lastname: 'Lovelace', loyalty_tier: 'gold', account_status: 'active', loyalty_points: '1200' }],
      }),
    () => ({ accessToken: 'pat-1' }),
  );
  const lookupFor = (): CustomerLookup =>
    new CustomerLookup({
      adapter: new HubSpotAdapter({
        baseUrl: sandbox().url,
        idProperty: 'guest_sync_external_id',
        tokens: new SecretTokenProvider({ secrets: secretCache(), secretId: SECRET_ID, key: 'accessToken' }),
        now: clock.now,
      }),
    });

  it('finds the contact by email and answers the customer shape, then from its cache', async () => {
    // Prepare
    const lookup = lookupFor();

    // Act
    const first = await lookup.lookup({ email: 'Ada@Example.com' });
    const again = await lookup.lookup({ email: 'ada@example.com' });

    // Assess
    expect(first).toEqual({
      outcome: 'found',
      customer: { id: expect.any(String), firstName: 'Ada', lastName: 'Lovelace', loyaltyTier: 'gold', accountStatus: 'active', loyaltyPoints: 1200 },
      fromCache: false,
    });
    expect(again).toMatchObject({ outcome: 'found', fromCache: true });
    expect(sandbox().state().requests.filter((r) => r.operation === 'searchContacts')).toHaveLength(1);
  });

  it('answers not found for an unknown guest', async () => {
    // Act
    const result = await lookupFor().lookup({ email: 'nobody@example.com', phone: '+44 20 7946 0000' });

    // Assess
    expect(result).toEqual({ outcome: 'not_found', fromCache: false });
  });

  it("answers unavailable (rate limited) when HubSpot's search refuses beyond 5 requests a second, and the guest continues unenriched", async () => {
    // Prepare: five searches in the same second use up the search limit.
    const lookup = lookupFor();
    for (let n = 0; n < 5; n += 1) await lookup.lookup({ email: guest(n) });

    // Act
    const refused = await lookup.lookup({ email: 'ada@example.com' });
    clock.advance(1_000);
    const nextSecond = await lookup.lookup({ email: 'ada@example.com' });

    // Assess
    expect(refused).toMatchObject({ outcome: 'unavailable', reason: 'rate_limited' });
    expect(sandbox().state().requestsByStatus).toMatchObject({ '429': 1 });
    expect(nextSecond).toMatchObject({ outcome: 'found', fromCache: false, customer: { firstName: 'Ada' } });
  });

  it('renews a token HubSpot no longer accepts (the secret was rotated) and still finds the guest', async () => {
    // Prepare
    secretAnswers({ accessToken: 'pat-1' }, { accessToken: 'pat-2' });
    const lookup = lookupFor();
    await lookup.lookup({ email: guest(1) });
    sandbox().rotateToken('pat-2');

    // Act
    const result = await lookup.lookup({ email: 'ada@example.com' });

    // Assess
    expect(result).toMatchObject({ outcome: 'found', customer: { firstName: 'Ada' } });
    expect(secretReads()).toBe(2);
    expect(sandbox().state().requestsByStatus).toMatchObject({ '401': 1 });
  });

  it('answers unavailable (permission) when the private app lacks the contacts read scope', async () => {
    // Prepare
    sandbox().setScopes([HUBSPOT_SCOPES.write]);

    // Act
    const result = await lookupFor().lookup({ email: 'ada@example.com' });

    // Assess
    expect(result).toMatchObject({ outcome: 'unavailable', reason: 'permission' });
  });
});

describe('Pre-chat lookup on Salesforce (SOQL, SOSL)', () => {
  const sandbox = sandboxPerTest(
    (now) =>
      startSalesforceSandbox({
        clientId: 'sf-client',
        clientSecret: 'sf-secret-1',
        clock: now,
        customers: [{ Email: 'grace@example.com', Phone: '(555) 010-3000', FirstName: 'Grace', LastName: 'Hopper', GS_Loyalty_Tier__c: 'platinum', GS_Account_Status__c: 'active', GS_Loyalty_Points__c: 900 }],
      }),
    (started) => ({ clientId: 'sf-client', clientSecret: 'sf-secret-1', loginUrl: started.url }),
  );
  const lookupFor = (): CustomerLookup =>
    new CustomerLookup({
      adapter: new SalesforceAdapter({
        externalIdField: 'GS_External_Id__c',
        tokens: new ClientCredentialsTokenProvider({ secrets: secretCache(), secretId: SECRET_ID, flavour: 'salesforce', now: clock.now }),
        now: clock.now,
      }),
    });

  it.each([
    ['by email (SOQL)', { email: 'GRACE@example.com' }, 'query'],
    ['by phone (SOSL)', { phone: '+1 555 010 3000' }, 'search'],
  ])('finds the contact %s', async (_case, query, operation) => {
    // Act
    const result = await lookupFor().lookup(query);

    // Assess
    expect(result).toEqual({
      outcome: 'found',
      customer: { id: expect.any(String), firstName: 'Grace', lastName: 'Hopper', loyaltyTier: 'platinum', accountStatus: 'active', loyaltyPoints: 900 },
      fromCache: false,
    });
    expect(sandbox().state().requests.map((r) => r.operation)).toContain(operation);
  });

  it('answers not found for an unknown guest', async () => {
    // Act
    const result = await lookupFor().lookup({ email: 'nobody@example.com' });

    // Assess
    expect(result).toEqual({ outcome: 'not_found', fromCache: false });
  });

  it('answers unavailable (quota exhausted) when the org is over its 24-hour API quota', async () => {
    // Prepare
    await control(sandbox().url, '/__sandbox/config', { dailyApiLimit: 1 });
    const lookup = lookupFor();
    await lookup.lookup({ email: guest(1) });

    // Act
    const result = await lookup.lookup({ email: 'grace@example.com' });

    // Assess
    expect(result).toMatchObject({ outcome: 'unavailable', reason: 'quota_exhausted' });
    expect(sandbox().state().requestsByStatus).toMatchObject({ '403': 1 });
  });

  it('renews an expired session (401 INVALID_SESSION_ID) and still finds the guest', async () => {
    // Prepare
    const lookup = lookupFor();
    await lookup.lookup({ email: guest(1) });
    sandbox().expireSessions();

    // Act
    const result = await lookup.lookup({ email: 'grace@example.com' });

    // Assess
    expect(result).toMatchObject({ outcome: 'found', customer: { firstName: 'Grace' } });
    expect(sandbox().state().tokensIssued).toBe(2);
  });

  it('answers unavailable (permission) when the integration user may not read contacts', async () => {
    // Prepare
    sandbox().faults.add([{ operation: 'query', status: 403, body: [{ errorCode: 'INSUFFICIENT_ACCESS', message: 'insufficient access rights on object Contact' }] }]);

    // Act
    const result = await lookupFor().lookup({ email: 'grace@example.com' });

    // Assess
    expect(result).toMatchObject({ outcome: 'unavailable', reason: 'permission' });
  });
});

describe('Pre-chat lookup on Dynamics 365 ($filter)', () => {
  const TENANT = '11111111-2222-3333-4444-555555555555';
  const sandbox = sandboxPerTest(
    (now) =>
      startDynamicsSandbox({
        tenantId: TENANT,
        clientId: 'dv-client',
        clientSecret: 'dv-secret-1',
        clock: now,
        customers: [{ emailaddress1: 'katherine@example.com', telephone1: '+1 555 010 4000', firstname: 'Katherine', lastname: 'Johnson', gs_loyaltytier: 'gold', gs_accountstatus: 'active', gs_loyaltypoints: 300 }],
      }),
    () => ({ tenantId: TENANT, clientId: 'dv-client', clientSecret: 'dv-secret-1' }),
  );
  const urls: string[] = [];
  const recordingFetch: typeof fetch = (input, init) => {
    urls.push(String(input));
    return fetch(input, init);
  };
  const lookupFor = (): CustomerLookup =>
    new CustomerLookup({
      adapter: new DynamicsAdapter({
        baseUrl: sandbox().url,
        fetch: recordingFetch,
        alternateKey: 'gs_externalid',
        tokens: new ClientCredentialsTokenProvider({
          secrets: secretCache(),
          secretId: SECRET_ID,
          flavour: 'dynamics',
          resourceUrl: sandbox().url,
          tokenUrl: `${sandbox().url}/{tenantId}/oauth2/v2.0/token`,
          now: clock.now,
        }),
        now: clock.now,
      }),
    });

  it.each([
    ['by email', { email: 'Katherine@Example.com' }],
    ['by phone', { phone: '+1 (555) 010-4000' }],
  ])('finds the contact %s, with the OData system query options as Dataverse reads them', async (_case, query) => {
    // Act
    const result = await lookupFor().lookup(query);

    // Assess
    expect(result).toEqual({
      outcome: 'found',
      customer: { id: expect.any(String), firstName: 'Katherine', lastName: 'Johnson', loyaltyTier: 'gold', accountStatus: 'active', loyaltyPoints: 300 },
      fromCache: false,
    });
    expect(urls.at(-1)).toMatch(/\/api\/data\/v9\.2\/contacts\?\$select=[^&]+&\$filter=[^&]+&\$top=1$/);
  });

  it('answers not found for an unknown guest', async () => {
    // Act
    const result = await lookupFor().lookup({ email: 'nobody@example.com' });

    // Assess
    expect(result).toEqual({ outcome: 'not_found', fromCache: false });
  });

  it('answers unavailable (rate limited) when the service protection window is full (429 with Retry-After)', async () => {
    // Prepare
    await control(sandbox().url, '/__sandbox/config', { requestsPerWindow: 1 });
    const lookup = lookupFor();
    await lookup.lookup({ email: guest(1) });

    // Act
    const result = await lookup.lookup({ email: 'katherine@example.com' });

    // Assess
    expect(result).toMatchObject({ outcome: 'unavailable', reason: 'rate_limited' });
    expect(sandbox().state().requestsByStatus).toMatchObject({ '429': 1 });
  });

  it('renews an expired token and still finds the guest', async () => {
    // Prepare
    const lookup = lookupFor();
    await lookup.lookup({ email: guest(1) });
    sandbox().expireTokens();

    // Act
    const result = await lookup.lookup({ email: 'katherine@example.com' });

    // Assess
    expect(result).toMatchObject({ outcome: 'found', customer: { firstName: 'Katherine' } });
    expect(sandbox().state().tokensIssued).toBe(2);
  });

  it('answers unavailable (permission) when the application user lacks the read privilege on contact', async () => {
    // Prepare
    sandbox().setPrivileges({ read: false });

    // Act
    const result = await lookupFor().lookup({ email: 'katherine@example.com' });

    // Assess
    expect(result).toMatchObject({ outcome: 'unavailable', reason: 'permission' });
  });
});

describe('sharedCustomerLookup', () => {
  const sandbox = sandboxPerTest(
    (now) => startHubSpotSandbox({ accessToken: 'pat-1', clock: now, searchLagMs: 0, customers: [{ email: 'ada@example.com', firstname: 'Ada' }] }),
    () => ({ accessToken: 'pat-1' }),
  );
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    resetSharedCustomerLookupForTests();
    resetSharedAuthForTests();
  });

  it('asks the CRM that CRM_PROVIDER names (HubSpot search here), not the rest CRM', async () => {
    // Prepare
    Object.assign(process.env, {
      CRM_PROVIDER: 'hubspot',
      CRM_BASE_URL: sandbox().url,
      HUBSPOT_ID_PROPERTY: 'guest_sync_external_id',
      CRM_CREDENTIALS_SECRET_ID: SECRET_ID,
    });

    // Act
    const result = await sharedCustomerLookup(loadConfig(['crm'])).lookup({ email: 'ada@example.com' });

    // Assess
    expect(result).toMatchObject({ outcome: 'found', customer: { firstName: 'Ada' } });
    expect(sandbox().state().requests.map((r) => r.operation)).toEqual(['searchContacts']);
  });
});
