/**
 * Wire types of the Genesys Cloud Platform API operations of docs/api.md section 4, taken
 * from the official SDK's models (`purecloud-platform-client-v2`, the `Models` namespace
 * named beside each type). Only the fields the suite writes or reads are typed; the rest
 * stay loose on purpose, so the client does not break when Genesys adds fields. The
 * type-level test (test/unit/lib/genesys/sdk-models.test.ts) holds each one against its
 * SDK model.
 */
import type { EntityReference } from './operations.ts';

// ---------------------------------------------------------------------------------------
// Conversations and participants

/** `Models.ParticipantAttributes`: participant data holds strings only; a PATCH merges. */
export interface ParticipantAttributesPatch {
  attributes: Record<string, string>;
}

// ---------------------------------------------------------------------------------------
// External contacts (`Models.ExternalContact`, `Models.ExternalId`, `Models.ExternalSource`)

/** `Models.ExternalSource`: where an external id comes from (the suite's guest source). */
export interface ExternalSource {
  id?: string;
  name: string;
  active?: boolean;
  selfUri?: string;
}

/** `Models.ExternalId`: one id of a contact in an external source (the suite's identity hashes). */
export interface ExternalId {
  externalSource: { id: string; name?: string };
  value: string;
}

/** `Models.DataSchema` as a contact's schema reference (`id` and `version`). */
export interface ContactSchemaReference {
  id: string;
  version: number;
}

/**
 * `Models.ExternalContact` as the suite writes and reads it: no name, email or phone field
 * is ever filled in; the hashes are `externalIds`, the rest `customFields` of the guest schema.
 */
export interface ExternalContact {
  id?: string;
  externalIds?: ExternalId[];
  schema?: ContactSchemaReference & { name?: string };
  customFields?: Record<string, unknown>;
  createDate?: string;
  modifyDate?: string;
  type?: string;
  selfUri?: string;
}

/** `Models.ContactIdentifier`, the body of the identifier lookup. */
export interface ContactIdentifier {
  type: string;
  value: string;
  externalSource?: { id: string };
}

/** `Models.DataSchema` (a contact schema), as set-up creates and lists it. */
export interface DataSchema {
  id?: string;
  name?: string;
  version: number;
  appliesTo?: string[];
  enabled?: boolean;
  jsonSchema: {
    $schema?: string;
    title?: string;
    description?: string;
    properties?: Record<string, unknown>;
    required?: string[];
    [key: string]: unknown;
  };
  selfUri?: string;
}

/** A listing page (`Models.ExternalSourceEntityListing`, `Models.DataSchemaListing`, ...). */
export interface EntityListing<T> {
  entities?: T[];
  pageSize?: number;
  pageNumber?: number;
  total?: number;
  pageCount?: number;
  nextUri?: string;
  selfUri?: string;
}

// ---------------------------------------------------------------------------------------
// Analytics conversation details (`Models.ConversationQuery`, `Models.AnalyticsConversationWithoutAttributes`)

/** One predicate of a conversation details filter. */
export interface AnalyticsPredicate {
  type?: 'dimension' | 'property' | 'metric';
  dimension?: string;
  operator?: 'matches' | 'exists' | 'notExists';
  value?: string;
}

/** `Models.ConversationQuery`: the suite filters on `externalContactId` over an interval. */
export interface ConversationDetailsQuery {
  interval: string;
  order?: 'asc' | 'desc';
  orderBy?: string;
  segmentFilters?: Array<{ type: 'and' | 'or'; predicates: AnalyticsPredicate[] }>;
  conversationFilters?: Array<{ type: 'and' | 'or'; predicates: AnalyticsPredicate[] }>;
  paging?: { pageSize: number; pageNumber: number };
}

/** `Models.AnalyticsSession` trimmed to what engagement metrics read. */
export interface AnalyticsSession {
  mediaType?: string;
  sessionId?: string;
  metrics?: Array<{ name: string; value: number; emitDate?: string }>;
}

/** `Models.AnalyticsParticipantWithoutAttributes`, trimmed. */
export interface AnalyticsParticipant {
  participantId?: string;
  purpose?: string;
  externalContactId?: string;
  sessions?: AnalyticsSession[];
}

/** `Models.AnalyticsConversationWithoutAttributes`, trimmed. */
export interface AnalyticsConversation {
  conversationId?: string;
  conversationStart?: string;
  conversationEnd?: string;
  participants?: AnalyticsParticipant[];
}

/** `Models.AnalyticsConversationQueryResponse`. */
export interface ConversationDetailsPage {
  conversations?: AnalyticsConversation[];
  totalHits?: number;
}

// ---------------------------------------------------------------------------------------
// Audits (`Models.AuditQueryServiceMapping`)

/** `Models.AuditQueryServiceMapping`: the services an audit query may name. */
export interface AuditServiceMapping {
  services?: Array<{ name?: string; entities?: Array<{ name?: string; actions?: string[] }> }>;
}

// ---------------------------------------------------------------------------------------
// Integrations (`Models.Integration`, `Models.IntegrationConfiguration`)

/** `Models.Integration`, trimmed. */
export interface Integration {
  id?: string;
  name?: string;
  integrationType?: { id: string; name?: string };
  notes?: string;
  intendedState?: 'ENABLED' | 'DISABLED' | 'DELETED';
  config?: { current?: IntegrationConfiguration };
  reportedState?: { code?: string; effective?: string };
  selfUri?: string;
}

/** `Models.CreateIntegrationRequest`. */
export interface CreateIntegrationRequest {
  integrationType: { id: string };
  name: string;
}

/** `Models.IntegrationConfiguration`: `properties` hold the type's settings (AWS account, region, suffix, topics). */
export interface IntegrationConfiguration {
  name: string;
  version: number;
  properties: Record<string, unknown>;
  advanced: Record<string, unknown>;
  notes: string;
  credentials: Record<string, { id: string; name?: string }>;
  selfUri?: string;
}

/** The body of `PATCH /api/v2/integrations/{integrationId}` the suite sends. */
export interface IntegrationStatePatch {
  intendedState: 'ENABLED' | 'DISABLED';
}

/** Re-exported so the catalogue's new entries read in one place. */
export type { EntityReference };
