/**
 * The Genesys Cloud operation catalogue (docs/api.md section 4): every operation the suite
 * calls is defined here exactly once, with its method, path template, success statuses
 * and the shapes of what goes in and comes out. The `token` operation lives in
 * `#lib/auth`, which owns the login host.
 *
 * Every entry is an endpoint of Genesys Cloud's public Platform API v2 and names the
 * official SDK function (`purecloud-platform-client-v2`) that calls it: the catalogue is
 * docs/api.md section 4 and nothing else (test/unit/lib/genesys/sdk-endpoints.test.ts fails
 * on any entry the SDK does not have). Shapes follow the SDK's models
 * (test/unit/lib/genesys/sdk-models.test.ts); fields the suite does not read are left out
 * or typed loosely on purpose: Genesys adds fields over time and the client must not
 * break when it does.
 */
import { ValidationError } from '#lib/errors';
import type { FieldError } from '#lib/errors';
import type { AnalyticsConversation, AuditServiceMapping, ContactIdentifier, ConversationDetailsPage, ConversationDetailsQuery, CreateIntegrationRequest, DataSchema, EntityListing, ExternalContact, ExternalSource, Integration, IntegrationConfiguration, IntegrationStatePatch, ParticipantAttributesPatch } from './platform.ts';

/** HTTP methods the catalogue uses. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH';

/** Flat attribute values: Genesys rejects nested objects and arrays in attributes. */
export type AttributeValue = string | number | boolean;

/** A flat attribute map (pre-chat's CRM sync job carries one; participant data is its string form). */
export type FlatAttributes = Record<string, AttributeValue>;

/** A reference to another Genesys entity as the public API embeds it. */
export interface EntityReference {
  id: string;
  name?: string;
  selfUri?: string;
}

// ---------------------------------------------------------------------------------------
// Audit queries (Genesys public API: AuditQueryRequest and friends)

/** One equality filter of an audit query, e.g. `{ property: 'EntityId', value: contactId }`. */
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
  readonly sdkFunction: string;
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
 * `repeatable` and `sdkFunction` have no default: each entry says why a repeat is or is
 * not safe, and which SDK function it is.
 */
const operation =
  <TBody, TResponse, TQuery = undefined>() =>
  <const TName extends string, const TPath extends string>(definition: {
    name: TName;
    method: HttpMethod;
    path: TPath;
    success: readonly number[];
    repeatable: boolean;
    sdkFunction: string;
  }): GenesysOperation<TName, TPath, TBody, TResponse, TQuery> =>
    Object.freeze({ ...definition, success: Object.freeze([...definition.success]) });

/**
 * Every Genesys operation the suite calls, each defined once, in the order of docs/api.md
 * section 4 (the token operation lives in `#lib/auth`). Reads and the writes that set a
 * state (PATCH of attributes, PUT of a whole entity) are repeatable; a create is not, so a
 * create whose outcome is unknown surfaces instead of risking a duplicate.
 */
export const genesysOperations = {
  // -- Conversations and participants
  patchParticipantAttributes: operation<ParticipantAttributesPatch, unknown>()({
    name: 'patchParticipantAttributes',
    method: 'PATCH',
    path: '/api/v2/conversations/{conversationId}/participants/{participantId}/attributes',
    success: [200, 202, 204],
    // A PATCH merges the same keys to the same values: sending it twice leaves the same attributes.
    repeatable: true,
    sdkFunction: 'patchConversationParticipantAttributes',
  }),
  getConversation: operation<undefined, Conversation>()({
    name: 'getConversation',
    method: 'GET',
    path: '/api/v2/conversations/{conversationId}',
    success: [200],
    repeatable: true,
    sdkFunction: 'getConversation',
  }),

  // -- External contacts (guests)
  createExternalContact: operation<ExternalContact, ExternalContact>()({
    name: 'createExternalContact',
    method: 'POST',
    path: '/api/v2/externalcontacts/contacts',
    success: [200, 201],
    // A repeat would create a second contact; lib/guests looks the identifier hash up first.
    repeatable: false,
    sdkFunction: 'postExternalcontactsContacts',
  }),
  getExternalContact: operation<undefined, ExternalContact>()({
    name: 'getExternalContact',
    method: 'GET',
    path: '/api/v2/externalcontacts/contacts/{contactId}',
    success: [200],
    repeatable: true,
    sdkFunction: 'getExternalcontactsContact',
  }),
  updateExternalContact: operation<ExternalContact, ExternalContact>()({
    name: 'updateExternalContact',
    method: 'PUT',
    path: '/api/v2/externalcontacts/contacts/{contactId}',
    success: [200],
    // A PUT replaces the whole contact: sending the same contact twice leaves the same contact.
    repeatable: true,
    sdkFunction: 'putExternalcontactsContact',
  }),
  lookupContactByIdentifier: operation<ContactIdentifier, ExternalContact>()({
    name: 'lookupContactByIdentifier',
    method: 'POST',
    path: '/api/v2/externalcontacts/identifierlookup/contacts',
    success: [200],
    // A POST only because the identifier travels in the body: it reads, so asking twice changes nothing.
    repeatable: true,
    sdkFunction: 'postExternalcontactsIdentifierlookupContacts',
  }),

  // -- Guest set-up (once, `npm run setup-genesys`)
  listExternalSources: operation<undefined, EntityListing<ExternalSource>, { name?: string; pageSize?: number; cursor?: string }>()({
    name: 'listExternalSources',
    method: 'GET',
    path: '/api/v2/externalcontacts/externalsources',
    success: [200],
    repeatable: true,
    sdkFunction: 'getExternalcontactsExternalsources',
  }),
  createExternalSource: operation<ExternalSource, ExternalSource>()({
    name: 'createExternalSource',
    method: 'POST',
    path: '/api/v2/externalcontacts/externalsources',
    success: [200, 201],
    // A repeat would create a second source of the same name; set-up lists before it creates.
    repeatable: false,
    sdkFunction: 'postExternalcontactsExternalsources',
  }),
  listContactSchemas: operation<undefined, EntityListing<DataSchema>>()({
    name: 'listContactSchemas',
    method: 'GET',
    path: '/api/v2/externalcontacts/contacts/schemas',
    success: [200],
    repeatable: true,
    sdkFunction: 'getExternalcontactsContactsSchemas',
  }),
  createContactSchema: operation<DataSchema, DataSchema>()({
    name: 'createContactSchema',
    method: 'POST',
    path: '/api/v2/externalcontacts/contacts/schemas',
    success: [200, 201],
    // A repeat would create a second schema; set-up lists before it creates.
    repeatable: false,
    sdkFunction: 'postExternalcontactsContactsSchemas',
  }),

  // -- Conversation details (engagement metrics)
  queryConversationDetails: operation<ConversationDetailsQuery, ConversationDetailsPage>()({
    name: 'queryConversationDetails',
    method: 'POST',
    path: '/api/v2/analytics/conversations/details/query',
    success: [200],
    // A POST only because the query travels in the body: it reads, so asking twice changes nothing.
    repeatable: true,
    sdkFunction: 'postAnalyticsConversationsDetailsQuery',
  }),
  getConversationDetails: operation<undefined, AnalyticsConversation>()({
    name: 'getConversationDetails',
    method: 'GET',
    path: '/api/v2/analytics/conversations/{conversationId}/details',
    success: [200],
    repeatable: true,
    sdkFunction: 'getAnalyticsConversationDetails',
  }),

  // -- Audit query (`npm run audit`)
  getAuditServiceMapping: operation<undefined, AuditServiceMapping>()({
    name: 'getAuditServiceMapping',
    method: 'GET',
    path: '/api/v2/audits/query/servicemapping',
    success: [200],
    repeatable: true,
    sdkFunction: 'getAuditsQueryServicemapping',
  }),
  submitAuditQuery: operation<AuditQueryRequest, AuditQueryExecution>()({
    name: 'submitAuditQuery',
    method: 'POST',
    path: '/api/v2/audits/query',
    success: [200, 202],
    // It creates a query transaction, not data: a repeat only starts a second read-only
    // transaction over the same audit records, and the caller polls the one it was answered.
    repeatable: true,
    sdkFunction: 'postAuditsQuery',
  }),
  getAuditQuery: operation<undefined, AuditQueryExecution>()({
    name: 'getAuditQuery',
    method: 'GET',
    path: '/api/v2/audits/query/{transactionId}',
    success: [200],
    repeatable: true,
    sdkFunction: 'getAuditsQueryTransactionId',
  }),
  getAuditQueryResults: operation<undefined, AuditQueryResultsPage, AuditQueryResultsQuery>()({
    name: 'getAuditQueryResults',
    method: 'GET',
    path: '/api/v2/audits/query/{transactionId}/results',
    success: [200],
    repeatable: true,
    sdkFunction: 'getAuditsQueryTransactionIdResults',
  }),

  // -- Web deployments (widget configuration)
  getWebDeployment: operation<undefined, WebDeployment>()({
    name: 'getWebDeployment',
    method: 'GET',
    path: '/api/v2/webdeployments/deployments/{deploymentId}',
    success: [200],
    repeatable: true,
    sdkFunction: 'getWebdeploymentsDeployment',
  }),

  // -- EventBridge integration
  listIntegrations: operation<undefined, EntityListing<Integration>, { pageSize?: number; pageNumber?: number; expand?: string }>()({
    name: 'listIntegrations',
    method: 'GET',
    path: '/api/v2/integrations',
    success: [200],
    repeatable: true,
    sdkFunction: 'getIntegrations',
  }),
  createIntegration: operation<CreateIntegrationRequest, Integration>()({
    name: 'createIntegration',
    method: 'POST',
    path: '/api/v2/integrations',
    success: [200, 201],
    // A repeat would install a second integration; list before creating.
    repeatable: false,
    sdkFunction: 'postIntegrations',
  }),
  putIntegrationConfig: operation<IntegrationConfiguration, IntegrationConfiguration>()({
    name: 'putIntegrationConfig',
    method: 'PUT',
    path: '/api/v2/integrations/{integrationId}/config/current',
    success: [200],
    // A PUT sets the whole configuration: a repeat of one that was committed creates nothing
    // (Genesys may answer 409 because the configuration's version has moved on; re-read it).
    repeatable: true,
    sdkFunction: 'putIntegrationConfigCurrent',
  }),
  patchIntegration: operation<IntegrationStatePatch, Integration>()({
    name: 'patchIntegration',
    method: 'PATCH',
    path: '/api/v2/integrations/{integrationId}',
    success: [200],
    // It sets `intendedState`: sending the same state twice leaves the same state.
    repeatable: true,
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
