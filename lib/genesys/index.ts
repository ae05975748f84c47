/**
 * The Genesys Cloud client and its operation catalogue (docs/api.md section 4). Handlers and
 * workers build one `GenesysClient` per container and pass each call a deadline.
 */
export { GenesysClient } from './client.ts';
export { sharedGenesysClient } from './shared.ts';
export { deadlineAfter, deadlineFromContext } from './deadline.ts';
export type { Deadline } from './deadline.ts';
export { GenesysError } from './errors.ts';
export { genesysOperations } from './operations.ts';
export type { AttributeValue, AuditLogMessage, Conversation, ConversationParticipant, FlatAttributes } from './operations.ts';
export type { AnalyticsConversation, DataSchema, ExternalContact, ExternalId, ExternalSource, Integration, IntegrationConfiguration } from './platform.ts';
