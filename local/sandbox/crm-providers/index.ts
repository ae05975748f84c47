/**
 * Provider sandboxes for the local stack and the tests: HubSpot, Salesforce and Dynamics 365
 * stand-ins (token endpoints included) that behave as each provider documents, with the
 * shared controls (`/__sandbox/state`, reset, faults, clock) and per-provider ones.
 */
import { startDynamicsSandbox, type DynamicsSandbox, type DynamicsSandboxOptions } from './dynamics.ts';
import { startHubSpotSandbox, type HubSpotSandbox, type HubSpotSandboxOptions } from './hubspot.ts';
import { startSalesforceSandbox, type SalesforceSandbox, type SalesforceSandboxOptions } from './salesforce.ts';

export { startDynamicsSandbox, parseODataFilter } from './dynamics.ts';
export type { DynamicsSandbox, DynamicsSandboxOptions, DynamicsSandboxState } from './dynamics.ts';
export { startHubSpotSandbox, HUBSPOT_MAX_INPUTS, HUBSPOT_SCOPES } from './hubspot.ts';
export type { HubSpotSandbox, HubSpotSandboxOptions, HubSpotSandboxState } from './hubspot.ts';
export { startSalesforceSandbox, SALESFORCE_MAX_RECORDS, parseSoqlEmail, parseSoqlIn, parseSoslTerm } from './salesforce.ts';
export type { SalesforceSandbox, SalesforceSandboxOptions, SalesforceSandboxState } from './salesforce.ts';
export type { ProviderFailureRule, ProviderStoredRecord } from './store.ts';

/** Options per provider. */
export interface CrmProviderSandboxOptions {
  hubspot: HubSpotSandboxOptions;
  salesforce: SalesforceSandboxOptions;
  dynamics: DynamicsSandboxOptions;
}

/** The sandbox each provider name starts. */
export interface CrmProviderSandboxes {
  hubspot: HubSpotSandbox;
  salesforce: SalesforceSandbox;
  dynamics: DynamicsSandbox;
}

/** Starts the sandbox of `provider` on 127.0.0.1 (the local stack picks it from `CRM_PROVIDER`). */
export async function startCrmProviderSandbox<P extends keyof CrmProviderSandboxOptions>(provider: P, options: CrmProviderSandboxOptions[P]): Promise<CrmProviderSandboxes[P]> {
  switch (provider) {
    case 'hubspot':
      return (await startHubSpotSandbox(options as HubSpotSandboxOptions)) as CrmProviderSandboxes[P];
    case 'salesforce':
      return (await startSalesforceSandbox(options as SalesforceSandboxOptions)) as CrmProviderSandboxes[P];
    case 'dynamics':
      return (await startDynamicsSandbox(options as DynamicsSandboxOptions)) as CrmProviderSandboxes[P];
    default:
      throw new Error(`No sandbox for CRM provider "${String(provider)}"`);
  }
}
