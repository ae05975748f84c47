import { beforeEach, describe, expect, it } from 'vitest';
import { ClientCredentialsTokenProvider } from '#lib/crm/providers/oauth.ts';
import { SalesforceAdapter, soqlString, soslTerm } from '#lib/crm/providers/salesforce.ts';
import { startSalesforceSandbox } from '#local/sandbox/crm-providers/index.ts';
import { SECRET_ID, chunkOf, clock, control, expectResultsInOrder, laterRecordFactory, lookupStories, recordFactory, readStories, sandboxPerTest, secretAnswers, secretCache, secretReads } from './support.ts';

const sandbox = sandboxPerTest(
  (now) => startSalesforceSandbox({ clientId: 'sf-client', clientSecret: 'sf-secret-1', clock: now }),
  (started) => ({ clientId: 'sf-client', clientSecret: 'sf-secret-1', loginUrl: started.url }),
);
const adapterFor = (): SalesforceAdapter => {
  const tokens = new ClientCredentialsTokenProvider({ secrets: secretCache(), secretId: SECRET_ID, flavour: 'salesforce', now: clock.now });
  return new SalesforceAdapter({ externalIdField: 'GS_External_Id__c', tokens, now: clock.now });
};
const call = { timeoutMs: 2_000 };

describe('SalesforceAdapter upsert', () => {
  it('upserts a chunk at the batch maximum (200) by the external id field, results in order', async () => {
    // Prepare
    const chunk = chunkOf(200);

    // Act
    const outcome = await adapterFor().upsert(chunk, call);

    // Assess
    expectResultsInOrder(outcome, chunk, 'created');
    expect(sandbox().state().records['session-3']?.fields).toMatchObject({
      GS_External_Id__c: 'session-3',
      GS_Email_Hash__c: 'a'.repeat(64),
      GS_Consent_marketing__c: true,
      GS_Attr_tier__c: 'gold',
      GS_Source_Updated_At__c: '2025-03-01T10:00:00.000Z',
    });
  });

  it('refuses a chunk over the maximum (201) without sending it', async () => {
    // Act
    const outcome = await adapterFor().upsert(chunkOf(201), call);

    // Assess
    expect(outcome).toMatchObject({ kind: 'failed', failure: { kind: 'rejected', status: 400 } });
    expect(sandbox().state().requests).toHaveLength(0);
  });

  it('maps per-record errors: UNABLE_TO_LOCK_ROW transient, validation and duplicates permanent', async () => {
    // Prepare
    await control(sandbox().url, '/__sandbox/record-failures', {
      rules: [
        { externalId: 'locked', code: 'UNABLE_TO_LOCK_ROW', message: 'unable to obtain exclusive access to this record' },
        { externalId: 'invalid', code: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', message: 'Tier must be set' },
        { externalId: 'dup', code: 'DUPLICATE_EXTERNAL_ID', message: 'more than one record found for external id field' },
      ],
    });

    // Act
    const outcome = await adapterFor().upsert(['ok', 'locked', 'invalid', 'dup'].map((id) => recordFactory(id)), call);

    // Assess
    expect(outcome).toMatchObject({
      kind: 'ok',
      results: [
        { externalId: 'ok', status: 'created' },
        { externalId: 'locked', status: 'failed', error: { code: 'UNABLE_TO_LOCK_ROW', classification: 'transient' } },
        { externalId: 'invalid', status: 'failed', error: { code: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', message: 'Tier must be set', classification: 'permanent' } },
        { externalId: 'dup', status: 'failed', error: { code: 'DUPLICATE_EXTERNAL_ID', classification: 'permanent' } },
      ],
    });
    expect(Object.keys(sandbox().state().records)).toEqual(['ok']);
  });

  it('tells created from updated and keeps fields a later job does not carry', async () => {
    // Prepare
    const adapter = adapterFor();
    await adapter.upsert([recordFactory('s1')], call);

    // Act
    const outcome = await adapter.upsert([laterRecordFactory('s1')], call);

    // Assess
    expect(outcome).toMatchObject({ kind: 'ok', results: [{ externalId: 's1', status: 'updated' }] });
    expect(sandbox().state().records['s1']).toMatchObject({
      writes: 2,
      history: ['2025-03-01T10:00:00.000Z', '2025-03-01T11:00:00.000Z'],
      fields: { GS_Email_Hash__c: 'a'.repeat(64), GS_Consent_marketing__c: true, GS_Attr_tier__c: 'gold', GS_Attr_lang__c: 'en' },
    });
  });
});

describe('SalesforceAdapter limits and sessions', () => {
  it('reads the 24-hour budget from Sforce-Limit-Info and stops on REQUEST_LIMIT_EXCEEDED', async () => {
    // Prepare
    await control(sandbox().url, '/__sandbox/config', { dailyApiLimit: 2 });
    const adapter = adapterFor();
    await adapter.upsert([recordFactory('a')], call);
    await adapter.upsert([recordFactory('b')], call);
    const budget = adapter.budget();

    // Act
    const outcome = await adapter.upsert([recordFactory('c')], call);

    // Assess
    expect(budget).toMatchObject({ dailyLimit: 2, dailyRemaining: 0 });
    expect(outcome).toMatchObject({ kind: 'failed', failure: { kind: 'quota_exhausted', status: 403, probeAfterMs: 60_000 } });
  });

  it('renews an expired session (INVALID_SESSION_ID) once and carries on', async () => {
    // Prepare
    const adapter = adapterFor();
    await adapter.upsert([recordFactory('a')], call);
    sandbox().expireSessions();

    // Act
    const outcome = await adapter.upsert([recordFactory('b')], call);

    // Assess
    expect(outcome).toMatchObject({ kind: 'ok', results: [{ externalId: 'b', status: 'created' }] });
    expect(sandbox().state().tokensIssued).toBe(2);
  });

  it('re-reads the secret when the token endpoint refuses the client secret (rotation) and recovers', async () => {
    // Prepare
    secretAnswers(
      { clientId: 'sf-client', clientSecret: 'sf-secret-1', loginUrl: sandbox().url },
      { clientId: 'sf-client', clientSecret: 'sf-secret-2', loginUrl: sandbox().url },
    );
    sandbox().rotateClientSecret('sf-secret-2');

    // Act
    const outcome = await adapterFor().upsert([recordFactory('a')], call);

    // Assess
    expect(outcome).toMatchObject({ kind: 'ok' });
    expect(secretReads()).toBe(2);
  });

  it('reports refused credentials when the re-read secret is refused too', async () => {
    // Prepare
    sandbox().rotateClientSecret('someone-else');

    // Act
    const outcome = await adapterFor().upsert([recordFactory('a')], call);

    // Assess
    expect(outcome).toMatchObject({ kind: 'failed', failure: { kind: 'credentials', status: 400 } });
  });

  it('classifies a 403 other than the request limit as lost permission', async () => {
    // Prepare
    sandbox().faults.add([{ operation: 'upsertCollection', status: 403, body: [{ errorCode: 'INSUFFICIENT_ACCESS', message: 'insufficient access rights on object id' }] }]);

    // Act
    const outcome = await adapterFor().upsert([recordFactory('a')], call);

    // Assess
    expect(outcome).toMatchObject({ kind: 'failed', failure: { kind: 'permission', status: 403 } });
  });
});

describe('SalesforceAdapter lookup', () => {
  beforeEach(async () => {
    await control(sandbox().url, '/__sandbox/customers', {
      customers: [
        { Email: "o'brien@example.com", Phone: '+1 (555) 010-2000', FirstName: 'Pat', LastName: "O'Brien", GS_Loyalty_Tier__c: 'platinum', GS_Account_Status__c: 'active', GS_Loyalty_Points__c: 5000 },
      ],
    });
  });

  it('finds a contact by email with SOQL (quote escaped)', async () => {
    // Act
    const outcome = await adapterFor().lookupCustomer({ email: "O'Brien@example.com" }, call);

    // Assess
    expect(outcome).toEqual({
      kind: 'found',
      customer: { id: expect.stringMatching(/^003/), firstName: 'Pat', lastName: "O'Brien", loyaltyTier: 'platinum', accountStatus: 'active', loyaltyPoints: 5000 },
    });
  });

  lookupStories((query) => adapterFor().lookupCustomer(query, call), { phoneStory: 'finds a contact by phone with SOSL (reserved characters escaped)', phone: '+1 (555) 010-2000', firstName: 'Pat' });

  it('escapes SOQL literals and SOSL terms', () => {
    expect(soqlString("a'b\\c")).toBe("'a\\'b\\\\c'");
    expect(soslTerm('+1 (555) 010-2000')).toBe('\\+1 \\(555\\) 010\\-2000');
  });
});

describe('SalesforceAdapter read (before re-sending a record whose send went unanswered)', () => {
  readStories(() => ({
    read: (records) => adapterFor().readRecords(records, call),
    upsert: (records) => adapterFor().upsert(records, call),
    state: () => sandbox().state(),
    addFault: (rule) => sandbox().faults.add([rule as never]),
    operation: 'query',
    sentValues: (record) => {
      const { GS_External_Id__c: _key, LastName: _lastName, ...values } = adapterFor().fields(record);
      return values;
    },
  }));
});
