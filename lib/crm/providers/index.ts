/**
 * The CRM provider adapters, reached through the one factory that builds the adapter
 * `CRM_PROVIDER` names. The adapters themselves are internals of this folder.
 */
export { createCrmAdapter, crmAdapterSettings } from './factory.ts';
export type { CrmAdapterSettings } from './factory.ts';
export { DYNAMICS_BATCH_LIMIT, DynamicsAdapter, odataString } from './dynamics.ts';
export type { DynamicsAdapterOptions } from './dynamics.ts';
export { HUBSPOT_BATCH_LIMIT, HubSpotAdapter } from './hubspot.ts';
export type { HubSpotAdapterOptions } from './hubspot.ts';
export { SALESFORCE_API_VERSION, SALESFORCE_BATCH_LIMIT, SalesforceAdapter, soqlString, soslTerm } from './salesforce.ts';
export type { SalesforceAdapterOptions } from './salesforce.ts';
export { REST_BATCH_LIMIT, RestAdapter, chunkKey } from './rest.ts';
export type { RestAdapterOptions } from './rest.ts';
export { CrmCredentialsError, CrmSettingsError, CrmTokenEndpointError } from './errors.ts';
export { ClientCredentialsTokenProvider, SecretTokenProvider, TOKEN_REFRESH_MARGIN_MS, tokenEndpoint } from './oauth.ts';
export type { ClientCredentialsOptions, CrmTokenSource, SecretTokenOptions } from './oauth.ts';
export { CRM_PROVIDERS, PROVIDER_BATCH_LIMITS } from '../adapter.ts';
