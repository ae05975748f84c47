/**
 * Sandbox Genesys Cloud (the public API of docs/api.md section 4 only) and CRM servers for
 * the local stack and the integration tests.
 */
export { startGenesysSandboxV2 as startGenesysSandbox } from './genesys/index.ts';
export type {
  GenesysClientCredentials,
  GenesysSandboxSeed,
  GenesysSandboxV2 as GenesysSandbox,
  GenesysSandboxV2Options as GenesysSandboxOptions,
  GenesysSandboxV2State as GenesysSandboxState,
} from './genesys/index.ts';
export { startCrmSandbox, CRM_MAX_BATCH_RECORDS } from './crm.ts';
export type {
  CrmCustomer,
  CrmCustomerSeed,
  CrmIdempotencyEntry,
  CrmPiiFinding,
  CrmRecord,
  CrmRecordResult,
  CrmSandbox,
  CrmSandboxOptions,
  CrmSandboxState,
  CrmStoredCustomer,
  CrmStoredRecord,
  CustomerNotFoundMode,
  RecordFailureRule,
  StoredRecordFailureRule,
} from './crm.ts';
export { FaultEngine, FaultRuleError, parseFaultRule, parseFaultRules } from './faults.ts';
export type { FaultRule, FaultTarget, StoredFaultRule } from './faults.ts';
export type { RequestLogEntry } from './server.ts';
export { createClock } from './util.ts';
export type { PiiFinding, SandboxClock, Scalar } from './util.ts';
