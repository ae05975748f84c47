/**
 * The provider adapters and the one factory that builds the adapter `CRM_PROVIDER` names
 * from explicit settings (the config section reads the environment; this file does not).
 */
import type { SecretCache, TokenProvider } from '#lib/auth';
import type { CrmConfig } from '#lib/config';
import type { CrmAdapter, CrmProviderName } from '../adapter.ts';
import { DynamicsAdapter } from './dynamics.ts';
import { CrmSettingsError } from './errors.ts';
import { HubSpotAdapter } from './hubspot.ts';
import { ClientCredentialsTokenProvider, SecretTokenProvider } from './oauth.ts';
import { RestAdapter } from './rest.ts';
import { SalesforceAdapter } from './salesforce.ts';

/**
 * What the factory needs: the `crm` section's provider settings (each provider reads only
 * its own, docs/api.md section 8; documented on CrmConfig) and what to reach the CRM with.
 */
export interface CrmAdapterSettings
  extends Partial<Pick<CrmConfig, 'baseUrl' | 'tokenUrl' | 'hubspotIdProperty' | 'hubspotTimeZone' | 'salesforceExternalIdField' | 'dynamicsUrl' | 'dynamicsAlternateKey'>> {
  provider: CrmProviderName;
  secrets: SecretCache;
  /** `CRM_CREDENTIALS_SECRET_ID`. */
  secretId: string;
  fetch?: typeof fetch;
  /** The `rest` provider's token source (default: `apiToken` of the secret); the worker passes the shared CRM token provider. */
  restTokens?: TokenProvider;
}

/**
 * The factory's settings for a `crm` config section: what the worker, the control
 * function and the pre-chat lookup build their adapter from, written once.
 */
export function crmAdapterSettings(crm: CrmConfig, with_: { secrets: SecretCache; restTokens?: TokenProvider; fetch?: typeof fetch }): CrmAdapterSettings {
  return {
    provider: crm.provider,
    secrets: with_.secrets,
    secretId: crm.credentialsSecretId,
    ...(crm.baseUrl ? { baseUrl: crm.baseUrl } : {}),
    ...(crm.tokenUrl ? { tokenUrl: crm.tokenUrl } : {}),
    ...(crm.hubspotIdProperty ? { hubspotIdProperty: crm.hubspotIdProperty } : {}),
    ...(crm.hubspotTimeZone ? { hubspotTimeZone: crm.hubspotTimeZone } : {}),
    ...(crm.salesforceExternalIdField ? { salesforceExternalIdField: crm.salesforceExternalIdField } : {}),
    ...(crm.dynamicsUrl ? { dynamicsUrl: crm.dynamicsUrl } : {}),
    ...(crm.dynamicsAlternateKey ? { dynamicsAlternateKey: crm.dynamicsAlternateKey } : {}),
    ...(crm.provider === 'rest' && with_.restTokens ? { restTokens: with_.restTokens } : {}),
    ...(with_.fetch ? { fetch: with_.fetch } : {}),
  };
}

function required(value: string | undefined, variable: string, provider: CrmProviderName): string {
  if (value === undefined || value.trim() === '') throw new CrmSettingsError(variable, provider);
  return value.trim();
}

/** Builds the adapter of `settings.provider`, with its token handling. */
export function createCrmAdapter(settings: CrmAdapterSettings): CrmAdapter {
  const { provider, secrets, secretId } = settings;
  const fetchOption = settings.fetch ? { fetch: settings.fetch } : {};
  switch (provider) {
    case 'rest':
      return new RestAdapter({
        baseUrl: required(settings.baseUrl, 'CRM_BASE_URL', provider),
        tokens: settings.restTokens ?? new SecretTokenProvider({ secrets, secretId, key: 'apiToken' }),
        ...fetchOption,
      });
    case 'hubspot':
      return new HubSpotAdapter({
        idProperty: required(settings.hubspotIdProperty, 'HUBSPOT_ID_PROPERTY', provider),
        ...(settings.hubspotTimeZone ? { timeZone: settings.hubspotTimeZone } : {}),
        tokens: new SecretTokenProvider({ secrets, secretId, key: 'accessToken' }),
        ...(settings.baseUrl ? { baseUrl: settings.baseUrl } : {}),
        ...fetchOption,
      });
    case 'salesforce':
      return new SalesforceAdapter({
        externalIdField: required(settings.salesforceExternalIdField, 'SALESFORCE_EXTERNAL_ID_FIELD', provider),
        tokens: new ClientCredentialsTokenProvider({ secrets, secretId, flavour: 'salesforce', ...(settings.tokenUrl ? { tokenUrl: settings.tokenUrl } : {}), ...fetchOption }),
        ...(settings.baseUrl ? { baseUrl: settings.baseUrl } : {}),
        ...fetchOption,
      });
    case 'dynamics': {
      const dynamicsUrl = required(settings.dynamicsUrl, 'DYNAMICS_URL', provider);
      return new DynamicsAdapter({
        baseUrl: settings.baseUrl ?? dynamicsUrl,
        alternateKey: required(settings.dynamicsAlternateKey, 'DYNAMICS_ALTERNATE_KEY', provider),
        tokens: new ClientCredentialsTokenProvider({
          secrets,
          secretId,
          flavour: 'dynamics',
          resourceUrl: dynamicsUrl,
          ...(settings.tokenUrl ? { tokenUrl: settings.tokenUrl } : {}),
          ...fetchOption,
        }),
        ...fetchOption,
      });
    }
    default:
      throw new Error(`Unknown CRM_PROVIDER "${String(provider)}"`);
  }
}
