import { describe, expect, it } from 'vitest';
import { CrmSettingsError, PROVIDER_BATCH_LIMITS, createCrmAdapter, type CrmAdapterSettings } from '../../../../../lib/crm/providers/index.ts';
import { SECRET_ID, secretCache } from './support.ts';

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
});
