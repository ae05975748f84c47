/**
 * The Genesys Cloud client and its operation catalogue (docs/api.md section 4). Handlers and
 * workers build one `GenesysClient` per container and pass each call a deadline.
 */
export { GenesysClient } from './client.ts';
export { resetSharedGenesysClientForTests, sharedGenesysClient } from './shared.ts';
export type {
  CallOptions,
  GenesysClientOptions,
  GenesysResponse,
  GenesysTokenSource,
  RequestOptions,
} from './client.ts';
export { DEFAULT_SAFETY_MARGIN_MS, deadlineAfter, deadlineFromContext } from './deadline.ts';
export type { Deadline } from './deadline.ts';
export { DEFAULT_THROTTLED_RETRY_AFTER_SECONDS, GenesysError } from './errors.ts';
export type { GenesysFailure, GenesysFailureKind } from './errors.ts';
export { expandPath, genesysOperations } from './operations.ts';
export type {
  AnyGenesysOperation,
  AttributeValue,
  AuditLogMessage,
  AuditQueryExecution,
  AuditQueryFilter,
  AuditQueryRequest,
  AuditQueryResultsPage,
  AuditQueryResultsQuery,
  AuditQuerySort,
  AuditQueryState,
  Conversation,
  ConversationParticipant,
  EntityReference,
  FlatAttributes,
  GenesysOperation,
  GenesysOperationName,
  HttpMethod,
  OperationBody,
  OperationParams,
  OperationQuery,
  OperationResponse,
  PathParamNames,
  QueryValue,
  WebDeployment,
  WebDeploymentStatus,
} from './operations.ts';
export type {
  AnalyticsConversation,
  AuditServiceMapping,
  ContactIdentifier,
  ConversationDetailsPage,
  ConversationDetailsQuery,
  CreateIntegrationRequest,
  DataSchema,
  EntityListing,
  ExternalContact,
  ExternalId,
  ExternalSource,
  Integration,
  IntegrationConfiguration,
  IntegrationStatePatch,
  ParticipantAttributesPatch,
} from './platform.ts';
