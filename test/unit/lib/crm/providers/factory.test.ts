import { describe, expect, it, vi } from 'vitest';
import { createCrmAdapter } from '#lib/crm/providers';
import { PROVIDER_BATCH_LIMITS } from '#lib/crm/adapter.ts';
import { CrmSettingsError } from '#lib/crm/providers/errors.ts';
import type { CrmAdapterSettings } from '#lib/crm/providers/factory.ts';
import { SECRET_ID, recordFactory, secretAnswers, secretCache } from './support.ts';

const base = (): Pick<CrmAdapterSettings, 'secrets' | 'secretId'> => ({ secrets: secretCache(), secretId: SECRET_ID });

describe('createCrmAdapter', () => {
  it.each([
    { provider: 'rest', baseUrl: 'http://127.0.0.1:1' },
    { provider: 'hubspot', hubspotIdProperty: 'guest_sync_external_id' },
    { provider: 'salesforce', salesforceExternalIdField: 'GS_External_Id__c' },
    { provider: 'dynamics', dynamicsUrl: 'https://org.crm.dynamics.com', dynamicsAlternateKey: 'gs_externalid' },
  ] as const)('builds the $provider adapter with its documented batch maximum', (settings) => {
    // Act
    const adapter = createCrmAdapter({ ...base(), ...settings });

    // Assess
    expect(adapter.provider).toBe(settings.provider);
    expect(adapter.batchLimit).toBe(PROVIDER_BATCH_LIMITS[settings.provider]);
  });

  it.each([
    ['hubspot', 'HUBSPOT_ID_PROPERTY'],
    ['salesforce', 'SALESFORCE_EXTERNAL_ID_FIELD'],
    ['dynamics', 'DYNAMICS_URL'],
    ['rest', 'CRM_BASE_URL'],
  ] as const)('names the missing variable for %s (%s)', (provider, variable) => {
    expect(() => createCrmAdapter({ ...base(), provider })).toThrow(new CrmSettingsError(variable, provider));
  });

  it('refuses email as the HubSpot id property', () => {
    expect(() => createCrmAdapter({ ...base(), provider: 'hubspot', hubspotIdProperty: 'email' })).toThrow(/not email/);
  });

  it('resets the HubSpot daily quota at midnight in HUBSPOT_TIME_ZONE, the account\'s zone, not in UTC', async () => {
    // Prepare: 2025-03-01 20:00 UTC is 15:00 in New York, where the next midnight is 05:00 UTC on 2 March
    secretAnswers({ accessToken: 'pat-test' });
    const answer = (): Response =>
      new Response(JSON.stringify({ status: 'COMPLETE', results: [{ id: '1', properties: { guest_sync_external_id: 'a' } }] }), {
        status: 200,
        headers: { 'content-type': 'application/json', 'x-hubspot-ratelimit-daily': '250000', 'x-hubspot-ratelimit-daily-remaining': '1000' },
      });
    const settings = { ...base(), provider: 'hubspot', hubspotIdProperty: 'guest_sync_external_id', baseUrl: 'http://127.0.0.1:1', fetch: async () => answer() } as const;
    vi.useFakeTimers({ now: Date.parse('2025-03-01T20:00:00.000Z'), toFake: ['Date'] });

    // Act
    try {
      const inNewYork = createCrmAdapter({ ...settings, hubspotTimeZone: 'America/New_York' });
      const inUtc = createCrmAdapter(settings);
      await inNewYork.upsert([recordFactory('a')], { timeoutMs: 2_000 });
      await inUtc.upsert([recordFactory('a')], { timeoutMs: 2_000 });

      // Assess
      expect(inNewYork.budget()?.dailyResetAt).toBe(Date.parse('2025-03-02T05:00:00.000Z'));
      expect(inUtc.budget()?.dailyResetAt).toBe(Date.parse('2025-03-02T00:00:00.000Z'));
    } finally {
      vi.useRealTimers();
    }
  });
});
