/** The CRM adapter (contract section 5). */
export { CrmNetworkError, crmRequest } from './http.ts';
export type { CrmRequestOptions, CrmResponse } from './http.ts';
