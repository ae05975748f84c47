/** The CRM adapter (docs/api.md section 6). */
export { CrmNetworkError, crmRequest } from './http.ts';
export type { CrmRequestOptions } from './http.ts';
export { parseRetryAfter } from './batch-upsert.ts';
export type { BatchUpsertOutcome, CrmRecordResult, CrmRecordStatus } from './batch-upsert.ts';
export { CustomerLookup, resetSharedCustomerLookupForTests, sharedCustomerLookup } from './lookup.ts';
export type { CrmCustomer, CustomerLookupResult } from './lookup.ts';
export type { CrmAdapter, ProviderUpsertOutcome, RequestBudget } from './adapter.ts';
