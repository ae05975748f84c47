/** The CRM adapter (docs/api.md section 6). */
export { CrmNetworkError } from './errors.ts';
export { crmRequest } from './http.ts';
export type { CrmRequestOptions, CrmResponse } from './http.ts';
export { BATCH_UPSERT_PATH, batchUpsert, isTransientUpsertStatus, readResults, safeCrmText } from './batch-upsert.ts';
export type { BatchUpsertOutcome, BatchUpsertRequest, CrmRecordResult, CrmRecordStatus } from './batch-upsert.ts';
export { breakerState, countBreakerChange, countsAgainstBreaker, createCrmBreaker } from './breaker.ts';
export type { BreakerState, CrmBreakerOptions } from './breaker.ts';
export {
  BoundedTtlCache,
  CRM_LOOKUP_BUDGET_MS,
  CustomerLookup,
  resetSharedCustomerLookupForTests,
  sharedCustomerLookup,
} from './lookup.ts';
export type {
  CrmCustomer,
  CustomerLookupOptions,
  CustomerLookupResult,
  CustomerQuery,
  LookupUnavailableReason,
} from './lookup.ts';
export { CRM_PROVIDERS, PROVIDER_BATCH_LIMITS, PROVIDER_BURST, PROVIDER_REQUESTS_PER_SECOND, classifyRecordCode, sameCrmValue } from './adapter.ts';
export type { CallFailure, CrmAdapter, CrmProviderName, FailureClass, ProviderLookupOutcome, ProviderReadOutcome, ProviderRecordResult, ProviderUpsertOutcome, RequestBudget } from './adapter.ts';
