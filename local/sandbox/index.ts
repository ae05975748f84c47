/**
 * Sandbox Genesys Cloud and CRM servers for the local stack and the integration tests.
 */
export { startGenesysSandbox, SESSION_ATTRIBUTES_MAX_BYTES } from './genesys.ts';
export type {
  DeploymentStatus,
  GenesysClientCredentials,
  GenesysPiiFinding,
  GenesysSandbox,
  GenesysSandboxOptions,
  GenesysSandboxState,
  SandboxAuditEntry,
  SandboxConversation,
  SandboxDeploymentOverride,
  SandboxGuest,
  SandboxWebhook,
} from './genesys.ts';
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
