/**
 * The Genesys Cloud operation catalogue (contract section 4): every operation the suite
 * calls is defined here exactly once, with its method, path template, success statuses
 * and the shapes of what goes in and comes out. The `token` operation lives in
 * `#lib/auth`, which owns the login host.
 *
 * Shapes follow the public Genesys Cloud API v2 where the operation is public (audit
 * queries, conversations, web deployments) and the contract where it comes from a seed.
 * Fields the suite does not read are left out or typed loosely on purpose: Genesys adds
 * fields over time and the client must not break when it does.
 */
import { ValidationError } from '#lib/errors';
import type { FieldError } from '#lib/errors';
import type {
  AnalyticsConversation,
  AuditServiceMapping,
  ContactIdentifier,
  ConversationDetailsPage,
  ConversationDetailsQuery,
  CreateIntegrationRequest,
  DataSchema,
  EntityListing,
  ExternalContact,
  ExternalSource,
  Integration,
  IntegrationConfiguration,
  IntegrationStatePatch,
  ParticipantAttributesPatch,
} from './platform.ts';

/** HTTP methods the catalogue uses. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH';

/** Flat attribute values: Genesys rejects nested objects and arrays in attributes. */
export type AttributeValue = string | number | boolean;

/** Flat attribute map sent to sessions, guests and contacts. */
export type FlatAttributes = Record<string, AttributeValue>;

/** A reference to another Genesys entity as the public API embeds it. */
export interface EntityReference {
  id: string;
  name?: string;
  selfUri?: string;
}

// ---------------------------------------------------------------------------------------
// Session attributes (seed 000)

/** Body of `PUT .../messagesessions/{sessionId}/attributes`: replaces the session's attributes. */
export interface PutSessionAttributesRequest {
  attributes: FlatAttributes;
}

/** What Genesys echoes after a session attribute PUT; an empty body (204) is allowed. */
export interface SessionAttributes {
  sessionId?: string;
  attributes?: FlatAttributes;
}

// ---------------------------------------------------------------------------------------
// Webhooks (seed 000)

/** Body of `POST /api/v2/webhooks`: a web hook Genesys calls with signed events. */
export interface WebhookRegistration {
  name: string;
  description: string;
  enabled: boolean;
  type: 'web';
  /** The https URL Genesys delivers events to. */
  address: string;
  events: string[];
  filter: string;
  httpHeaders: Record<string, string>;
  /** The signing secret; Genesys never echoes it back. */
  secret: string;
}

/** A registered webhook as Genesys returns it (without the secret). */
export interface Webhook {
  id: string;
  name?: string;
  description?: string;
  enabled?: boolean;
  type?: string;
  address?: string;
  events?: string[];
  filter?: string;
  selfUri?: string;
}

// ---------------------------------------------------------------------------------------
// Web Messaging guests (seed 001)

/** Hashed identifiers only (salted SHA-256, 64 hex chars): raw email or phone never leave us. */
export interface GuestIdentityAttributes {
  emailHash?: string;
  phoneHash?: string;
  /** An opaque device fingerprint (at most 128 characters), for cross-device matching. */
  deviceFingerprint?: string;
}

/** The guest's consent decisions. */
export interface GuestConsent {
  marketing: boolean;
  dataProcessing: boolean;
}

/** Where the conversation started. */
export interface GuestChannelContext {
  /** An absolute URI. */
  originPage?: string;
  /** `^[A-Z0-9_-]+$` */
  campaignId?: string;
}

/**
 * A Web Messaging guest. `createdDate`, `modifiedDate` and `closedDate` are ISO-8601
 * timestamps; the engagement counters are maintained by Genesys as messages flow.
 */
export interface Guest {
  id: string;
  identityAttributes?: GuestIdentityAttributes;
  consent?: GuestConsent;
  channelContext?: GuestChannelContext;
  attributes?: FlatAttributes;
  createdDate: string;
  modifiedDate: string;
  closedDate?: string;
  messageCount?: number;
  avgResponseTimeMs?: number;
  conversionFlag?: boolean;
}

/** Body of `POST .../webmessaging/guests`: a minimised, already-hashed guest. */
export interface CreateGuestRequest {
  channel?: 'webmessaging';
  consent: GuestConsent;
  identityAttributes?: GuestIdentityAttributes;
  channelContext?: GuestChannelContext;
  attributes?: FlatAttributes;
}

/** Body of `PATCH .../webmessaging/guests/{guestId}`: only the fields being changed. */
export interface GuestPatch {
  consent?: Partial<GuestConsent>;
  identityAttributes?: GuestIdentityAttributes;
  channelContext?: GuestChannelContext;
  attributes?: FlatAttributes;
}

// ---------------------------------------------------------------------------------------
// Audit queries (Genesys public API: AuditQueryRequest and friends)

/** One equality filter of an audit query, e.g. `{ property: 'EntityType', value: 'Guest' }`. */
export interface AuditQueryFilter {
  property: string;
  value: string;
}

/** Sort order of an audit query. */
export interface AuditQuerySort {
  name: string;
  sortOrder: 'ascending' | 'descending';
}

/** Body of `POST /api/v2/audits/query`; `interval` is an ISO-8601 interval (`start/end`). */
export interface AuditQueryRequest {
  interval: string;
  serviceName: string;
  filters?: AuditQueryFilter[];
  sort?: AuditQuerySort[];
}

/** Where an audit query transaction stands; results are readable once `Succeeded`. */
export type AuditQueryState = 'Queued' | 'Running' | 'Succeeded' | 'Failed' | 'Cancelled';

/** An audit query transaction (`AuditQueryExecutionStatusResponse`). */
export interface AuditQueryExecution {
  /** The transaction id to poll and to read results with. */
  id: string;
  state: AuditQueryState;
  startDate?: string;
  interval?: string;
  serviceName?: string;
  filters?: AuditQueryFilter[];
  sort?: AuditQuerySort[];
}

/** One audited change (`AuditLogMessage`), trimmed to what an audit trail needs. */
export interface AuditLogMessage {
  id: string;
  eventDate: string;
  serviceName?: string;
  level?: string;
  action?: string;
  status?: string;
  entityType?: string;
  entity?: EntityReference;
  user?: EntityReference;
  client?: EntityReference;
  propertyChanges?: Array<{ property: string; oldValues?: string[]; newValues?: string[] }>;
  context?: Record<string, string>;
}

/** Query of `GET /api/v2/audits/query/{transactionId}/results`. */
export interface AuditQueryResultsQuery {
  /** The `cursor` of the previous page; absent for the first page. */
  cursor?: string;
  pageSize?: number;
  expand?: 'user';
}

/** One page of audit results; a `cursor` means there is another page. */
export interface AuditQueryResultsPage {
  id: string;
  pageSize?: number;
  cursor?: string;
  entities: AuditLogMessage[];
}

// ---------------------------------------------------------------------------------------
// Web Messaging conversations (seed 002)

/** A routing skill requested for a new conversation. */
export interface RoutingSkill {
  name: string;
  priority?: number;
}

/** Body of `POST /api/v2/webmessaging/conversations`. Contact attributes are flat. */
export interface CreateConversationRequest {
  channel: string;
  routing: { queueId: string; skills?: RoutingSkill[] };
  contact: { attributes: FlatAttributes };
}

/** The created Web Messaging conversation. */
export interface WebMessagingConversation {
  id: string;
  channel?: string;
  routing?: { queueId?: string; skills?: RoutingSkill[] };
  contact?: { attributes?: FlatAttributes };
}

/** Body of `PUT .../conversations/{conversationId}/contact`. */
export interface UpdateContactRequest {
  attributes: FlatAttributes;
}

/** The updated contact; an empty body (204) is allowed. */
export interface ConversationContact {
  attributes?: FlatAttributes;
}

// ---------------------------------------------------------------------------------------
// Conversations (Genesys public API: Conversation, Participant)

/** A conversation participant; the guest is the one with `purpose: 'customer'`. */
export interface ConversationParticipant {
  id: string;
  purpose: string;
  name?: string;
  startTime?: string;
  endTime?: string;
  userId?: string;
  queueId?: string;
  externalContactId?: string;
  /** Participant data; the public API returns every value as a string. */
  attributes?: Record<string, string>;
}

/** A conversation as `GET /api/v2/conversations/{conversationId}` returns it. */
export interface Conversation {
  id: string;
  name?: string;
  startTime?: string;
  endTime?: string;
  state?: string;
  participants: ConversationParticipant[];
  selfUri?: string;
}

// ---------------------------------------------------------------------------------------
// Web deployments (Genesys public API: WebDeployment)

/** Lifecycle state of a web deployment; only `Active` deployments serve the widget. */
export type WebDeploymentStatus = 'Pending' | 'Active' | 'Inactive' | 'Error' | 'Deleting';

/** A Messenger web deployment. */
export interface WebDeployment {
  id: string;
  name: string;
  description?: string;
  status: WebDeploymentStatus;
  configuration?: EntityReference & { version?: string };
  allowAllDomains?: boolean;
  allowedDomains?: string[];
  flow?: EntityReference;
  dateCreated?: string;
  dateModified?: string;
  selfUri?: string;
}

// ---------------------------------------------------------------------------------------
// The catalogue

/** Values a query string accepts; `undefined` entries are left out. */
export type QueryValue = string | number | boolean | undefined;

declare const shapes: unique symbol;

/**
 * One Genesys operation: what the client needs to send it and check the answer. The body,
 * response and query types ride along at type level only, so `call()` is typed per entry.
 */
export interface GenesysOperation<
  TName extends string = string,
  TPath extends string = string,
  TBody = unknown,
  TResponse = unknown,
  TQuery = unknown,
> {
  readonly name: TName;
  readonly method: HttpMethod;
  /** Path template; `{name}` segments are filled from URL-encoded path parameters. */
  readonly path: TPath;
  /** Statuses that mean success; any other answer is a failure. */
  readonly success: readonly number[];
  /**
   * Whether sending the request again after an answer that leaves its outcome unknown
   * (a timeout, a dropped connection, a 5xx) is safe. False for creates: Genesys may have
   * committed the first one, and a repeat would create a duplicate.
   */
  readonly repeatable: boolean;
  /** The official SDK's function for this endpoint (checked by test/unit/lib/genesys/sdk-endpoints.test.ts). */
  readonly sdkFunction?: string;
  /** Type-level only: never present at run time. */
  readonly [shapes]?: { body: TBody; response: TResponse; query: TQuery };
}

/** Any catalogue entry, whatever its shapes (the shapes are covariant, so every entry fits). */
export type AnyGenesysOperation = GenesysOperation;

/** The names of the `{placeholders}` of a path template. */
export type PathParamNames<TPath extends string> = TPath extends `${string}{${infer Name}}${infer Rest}`
  ? Name | PathParamNames<Rest>
  : never;

/** The request body an operation takes (`undefined` when it takes none). */
export type OperationBody<Op extends AnyGenesysOperation> = NonNullable<Op[typeof shapes]>['body'];

/** The response body an operation returns. */
export type OperationResponse<Op extends AnyGenesysOperation> = NonNullable<Op[typeof shapes]>['response'];

/** The query an operation accepts (`undefined` when it takes none). */
export type OperationQuery<Op extends AnyGenesysOperation> = NonNullable<Op[typeof shapes]>['query'];

/** The path parameters an operation needs, by name. */
export type OperationParams<Op extends AnyGenesysOperation> = Record<PathParamNames<Op['path']>, string>;

/**
 * Declares one operation. Curried so the body/response/query types are written out while
 * the name and path template are inferred as literals (which types the path parameters).
 */
const operation =
  <TBody, TResponse, TQuery = undefined>() =>
  <const TName extends string, const TPath extends string>(definition: {
    name: TName;
    method: HttpMethod;
    path: TPath;
    success: readonly number[];
    /** Defaults to true for GET, PUT and PATCH, false for POST (see `GenesysOperation.repeatable`). */
    repeatable?: boolean;
    sdkFunction?: string;
  }): GenesysOperation<TName, TPath, TBody, TResponse, TQuery> =>
    Object.freeze({
      ...definition,
      repeatable: definition.repeatable ?? definition.method !== 'POST',
      success: Object.freeze([...definition.success]),
    });

/** Every Genesys operation the suite calls, each defined once (contract section 4). */
export const genesysOperations = {
  putSessionAttributes: operation<PutSessionAttributesRequest, SessionAttributes | undefined>()({
    name: 'putSessionAttributes',
    method: 'PUT',
    path: '/api/v2/guests/messagesessions/{sessionId}/attributes',
    success: [200, 204],
  }),
  registerWebhook: operation<WebhookRegistration, Webhook>()({
    name: 'registerWebhook',
    method: 'POST',
    path: '/api/v2/webhooks',
    success: [200, 201],
  }),
  createGuest: operation<CreateGuestRequest, Guest>()({
    name: 'createGuest',
    method: 'POST',
    path: '/api/v2/conversations/webmessaging/guests',
    success: [200, 201],
  }),
  getGuest: operation<undefined, Guest>()({
    name: 'getGuest',
    method: 'GET',
    path: '/api/v2/conversations/webmessaging/guests/{guestId}',
    success: [200],
  }),
  updateGuest: operation<GuestPatch, Guest>()({
    name: 'updateGuest',
    method: 'PATCH',
    path: '/api/v2/conversations/webmessaging/guests/{guestId}',
    success: [200],
  }),
  submitAuditQuery: operation<AuditQueryRequest, AuditQueryExecution>()({
    name: 'submitAuditQuery',
    method: 'POST',
    path: '/api/v2/audits/query',
    success: [200, 202],
    sdkFunction: 'postAuditsQuery',
    // A second query is harmless: it only starts another read-only transaction.
    repeatable: true,
  }),
  getAuditQuery: operation<undefined, AuditQueryExecution>()({
    name: 'getAuditQuery',
    method: 'GET',
    path: '/api/v2/audits/query/{transactionId}',
    success: [200],
    sdkFunction: 'getAuditsQueryTransactionId',
  }),
  getAuditQueryResults: operation<undefined, AuditQueryResultsPage, AuditQueryResultsQuery>()({
    name: 'getAuditQueryResults',
    method: 'GET',
    path: '/api/v2/audits/query/{transactionId}/results',
    success: [200],
    sdkFunction: 'getAuditsQueryTransactionIdResults',
  }),
  createConversation: operation<CreateConversationRequest, WebMessagingConversation>()({
    name: 'createConversation',
    method: 'POST',
    path: '/api/v2/webmessaging/conversations',
    success: [200, 201],
  }),
  updateContact: operation<UpdateContactRequest, ConversationContact | undefined>()({
    name: 'updateContact',
    method: 'PUT',
    path: '/api/v2/webmessaging/conversations/{conversationId}/contact',
    success: [200, 204],
  }),
  getConversation: operation<undefined, Conversation>()({
    name: 'getConversation',
    method: 'GET',
    path: '/api/v2/conversations/{conversationId}',
    success: [200],
    sdkFunction: 'getConversation',
  }),
  getWebDeployment: operation<undefined, WebDeployment>()({
    name: 'getWebDeployment',
    method: 'GET',
    path: '/api/v2/webdeployments/deployments/{deploymentId}',
    success: [200],
    sdkFunction: 'getWebdeploymentsDeployment',
  }),
  patchParticipantAttributes: operation<ParticipantAttributesPatch, unknown>()({
    name: 'patchParticipantAttributes',
    method: 'PATCH',
    path: '/api/v2/conversations/{conversationId}/participants/{participantId}/attributes',
    success: [200, 202, 204],
    sdkFunction: 'patchConversationParticipantAttributes',
  }),
  createExternalContact: operation<ExternalContact, ExternalContact>()({
    name: 'createExternalContact',
    method: 'POST',
    path: '/api/v2/externalcontacts/contacts',
    success: [200, 201],
    sdkFunction: 'postExternalcontactsContacts',
  }),
  getExternalContact: operation<undefined, ExternalContact>()({
    name: 'getExternalContact',
    method: 'GET',
    path: '/api/v2/externalcontacts/contacts/{contactId}',
    success: [200],
    sdkFunction: 'getExternalcontactsContact',
  }),
  updateExternalContact: operation<ExternalContact, ExternalContact>()({
    name: 'updateExternalContact',
    method: 'PUT',
    path: '/api/v2/externalcontacts/contacts/{contactId}',
    success: [200],
    sdkFunction: 'putExternalcontactsContact',
  }),
  lookupContactByIdentifier: operation<ContactIdentifier, ExternalContact>()({
    name: 'lookupContactByIdentifier',
    method: 'POST',
    path: '/api/v2/externalcontacts/identifierlookup/contacts',
    success: [200],
    // A lookup reads; asking twice changes nothing.
    repeatable: true,
    sdkFunction: 'postExternalcontactsIdentifierlookupContacts',
  }),
  listExternalSources: operation<undefined, EntityListing<ExternalSource>, { name?: string; pageSize?: number; cursor?: string }>()({
    name: 'listExternalSources',
    method: 'GET',
    path: '/api/v2/externalcontacts/externalsources',
    success: [200],
    sdkFunction: 'getExternalcontactsExternalsources',
  }),
  createExternalSource: operation<ExternalSource, ExternalSource>()({
    name: 'createExternalSource',
    method: 'POST',
    path: '/api/v2/externalcontacts/externalsources',
    success: [200, 201],
    sdkFunction: 'postExternalcontactsExternalsources',
  }),
  listContactSchemas: operation<undefined, EntityListing<DataSchema>>()({
    name: 'listContactSchemas',
    method: 'GET',
    path: '/api/v2/externalcontacts/contacts/schemas',
    success: [200],
    sdkFunction: 'getExternalcontactsContactsSchemas',
  }),
  createContactSchema: operation<DataSchema, DataSchema>()({
    name: 'createContactSchema',
    method: 'POST',
    path: '/api/v2/externalcontacts/contacts/schemas',
    success: [200, 201],
    sdkFunction: 'postExternalcontactsContactsSchemas',
  }),
  queryConversationDetails: operation<ConversationDetailsQuery, ConversationDetailsPage>()({
    name: 'queryConversationDetails',
    method: 'POST',
    path: '/api/v2/analytics/conversations/details/query',
    success: [200],
    // A query reads; asking twice changes nothing.
    repeatable: true,
    sdkFunction: 'postAnalyticsConversationsDetailsQuery',
  }),
  getConversationDetails: operation<undefined, AnalyticsConversation>()({
    name: 'getConversationDetails',
    method: 'GET',
    path: '/api/v2/analytics/conversations/{conversationId}/details',
    success: [200],
    sdkFunction: 'getAnalyticsConversationDetails',
  }),
  getAuditServiceMapping: operation<undefined, AuditServiceMapping>()({
    name: 'getAuditServiceMapping',
    method: 'GET',
    path: '/api/v2/audits/query/servicemapping',
    success: [200],
    sdkFunction: 'getAuditsQueryServicemapping',
  }),
  listIntegrations: operation<undefined, EntityListing<Integration>, { pageSize?: number; pageNumber?: number; expand?: string }>()({
    name: 'listIntegrations',
    method: 'GET',
    path: '/api/v2/integrations',
    success: [200],
    sdkFunction: 'getIntegrations',
  }),
  createIntegration: operation<CreateIntegrationRequest, Integration>()({
    name: 'createIntegration',
    method: 'POST',
    path: '/api/v2/integrations',
    success: [200, 201],
    sdkFunction: 'postIntegrations',
  }),
  putIntegrationConfig: operation<IntegrationConfiguration, IntegrationConfiguration>()({
    name: 'putIntegrationConfig',
    method: 'PUT',
    path: '/api/v2/integrations/{integrationId}/config/current',
    success: [200],
    sdkFunction: 'putIntegrationConfigCurrent',
  }),
  patchIntegration: operation<IntegrationStatePatch, Integration>()({
    name: 'patchIntegration',
    method: 'PATCH',
    path: '/api/v2/integrations/{integrationId}',
    success: [200],
    sdkFunction: 'patchIntegration',
  }),
} as const;

/** The name of a catalogue operation. */
export type GenesysOperationName = keyof typeof genesysOperations;

/**
 * Fills a path template with URL-encoded parameters. Identifiers arrive from callers' URLs,
 * so an empty value, a missing or unknown parameter, or a dot segment (which would walk the
 * path upwards after encoding) is refused as a validation error before anything is sent.
 */
export function expandPath(template: string, params: Readonly<Record<string, string>> = {}): string {
  const problems: FieldError[] = [];
  const used = new Set<string>();
  const path = template.replace(/\{([^}]+)\}/g, (_placeholder, name: string) => {
    used.add(name);
    const value: unknown = params[name];
    if (typeof value !== 'string' || value.trim() === '') {
      problems.push({ path: name, message: 'must be a non-empty string' });
      return '';
    }
    if (value === '.' || value === '..') {
      problems.push({ path: name, message: 'must not be a dot segment' });
      return '';
    }
    return encodeURIComponent(value);
  });
  for (const name of Object.keys(params)) {
    if (!used.has(name)) problems.push({ path: name, message: 'is not a parameter of this operation' });
  }
  if (problems.length > 0) {
    throw new ValidationError(`Invalid path parameters: ${problems.map((p) => p.path).join(', ')}`, problems);
  }
  return path;
}
