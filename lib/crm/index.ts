/** The CRM adapter (docs/api.md section 6). */
export { CrmNetworkError } from './errors.ts';
export { crmRequest } from './http.ts';
export type { CrmRequestOptions } from './http.ts';
export type { BatchUpsertOutcome, CrmRecordResult, CrmRecordStatus } from './batch-upsert.ts';
export { breakerState, countBreakerChange, createCrmBreaker } from './breaker.ts';
export { CustomerLookup, resetSharedCustomerLookupForTests, sharedCustomerLookup } from './lookup.ts';
export type { CrmCustomer, CustomerLookupResult } from './lookup.ts';
export { PROVIDER_BURST } from './adapter.ts';
export type { CrmAdapter, ProviderUpsertOutcome, RequestBudget } from './adapter.ts';
