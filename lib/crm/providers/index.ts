/**
 * The CRM provider adapters, reached through the one factory that builds the adapter
 * `CRM_PROVIDER` names. The adapters themselves are internals of this folder.
 */
export { createCrmAdapter, crmAdapterSettings } from './factory.ts';
