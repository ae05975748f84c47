/**
 * What every resource of the sandbox Genesys shares: the in-memory world, Genesys's error
 * body, and the context a resource's routes are built with. Shapes follow the models of the
 * official SDK `purecloud-platform-client-v2` (index.d.ts), named next to each type.
 */
import type { EventBridgeEnvelope } from '../../event-bus.ts';
import { HttpError, type RequestLogEntry, type RouteDef, type SandboxReply } from '../server.ts';
import { findPii, isPlainObject, type PiiFinding, type SandboxClock } from '../util.ts';

/** The organisation every sandbox entity belongs to. */
export const SANDBOX_ORG_ID = '00000000-0000-4000-8000-00000000a11c';

/** Request log lines kept in the state view. */
export const MAX_LOG = 5_000;

/** Genesys `code` for each status the sandbox answers (SDK model `ErrorBody.code`). */
const ERROR_CODES: Record<number, string> = {
  400: 'bad.request',
  401: 'bad.credentials',
  403: 'missing.any.permissions',
  404: 'not.found',
  405: 'method.not.allowed',
  409: 'conflict',
  413: 'request.entity.too.large',
  415: 'unsupported.media.type',
  429: 'too.many.requests.retry.after',
  500: 'internal.server.error',
  502: 'bad.gateway',
  503: 'service.unavailable',
  504: 'gateway.timeout',
};

/** One `details` entry of an error body (SDK model `Detail`). */
export interface ErrorDetail {
  errorCode?: string;
  fieldName?: string;
  entityId?: string;
  entityName?: string;
}

/** Thrown by handlers for an error with a specific Genesys `code` or `details`. */
export class GenesysHttpError extends HttpError {
  constructor(
    status: number,
    message: string,
    readonly code?: string,
    readonly details: ErrorDetail[] = [],
    headers: Record<string, string> = {},
  ) {
    super(status, message, headers);
  }
}

/**
 * Genesys's error document (SDK model `ErrorBody`): `{message, code, status, contextId,
 * details, errors}`; a 429 also carries `Retry-After` (1 s unless the caller sets one).
 */
export function genesysError(
  status: number,
  message: string,
  req: { correlationId: string },
  extra: { code?: string; details?: ErrorDetail[]; retryAfterSeconds?: number } = {},
): SandboxReply {
  const reply: SandboxReply = {
    status,
    body: {
      message,
      code: extra.code ?? ERROR_CODES[status] ?? (status >= 500 ? 'internal.server.error' : 'bad.request'),
      status,
      messageParams: {},
      contextId: req.correlationId,
      details: extra.details ?? [],
      errors: [],
    },
  };
  if (status === 429) reply.headers = { 'retry-after': String(extra.retryAfterSeconds ?? 1) };
  return reply;
}

/** A 400 naming the field, the way Genesys reports an invalid value. */
export function invalid(fieldName: string, message: string): GenesysHttpError {
  return new GenesysHttpError(400, message, 'invalid.value', [{ errorCode: 'invalid.value', fieldName }]);
}

/** A 404 for an entity that does not exist. */
export function notFound(what: string, id: string): GenesysHttpError {
  return new GenesysHttpError(404, `${what} ${id} not found`, 'not.found', [{ errorCode: 'not.found', entityId: id }]);
}

/** The body as a JSON object, else 400. */
export function requireObject(value: unknown, fieldName: string): Record<string, unknown> {
  if (!isPlainObject(value)) throw invalid(fieldName, `${fieldName} must be a JSON object`);
  return value;
}

/** A non-empty string field, else 400 naming it. */
export function requireString(value: unknown, fieldName: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalid(fieldName, `${fieldName} is required`);
  return value;
}

/**
 * A flat map of string values (SDK model `ParticipantAttributes.attributes`:
 * `{ [key: string]: string }`); any other value is refused with 400 naming the key.
 */
export function requireStringMap(value: unknown, fieldName: string): Record<string, string> {
  const map = requireObject(value, fieldName);
  for (const [key, item] of Object.entries(map)) {
    if (typeof item !== 'string') {
      throw invalid(`${fieldName}.${key}`, `${fieldName}.${key} must be a string; participant attributes hold strings only`);
    }
  }
  return map as Record<string, string>;
}

/** `"<ISO start>/<ISO end>"` with start before end, as analytics and audit queries take it. */
export function parseInterval(value: unknown, fieldName = 'interval'): { start: number; end: number } {
  const text = typeof value === 'string' ? value : '';
  const [from, to, extra] = text.split('/');
  const start = from ? Date.parse(from) : Number.NaN;
  const end = to ? Date.parse(to) : Number.NaN;
  if (extra !== undefined || Number.isNaN(start) || Number.isNaN(end) || start >= end) {
    throw invalid(fieldName, `${fieldName} must be "<ISO-8601 start>/<ISO-8601 end>" with start before end`);
  }
  return { start, end };
}

/** The three conversation topics the sandbox publishes (docs/api.md section 3). */
export type ConversationTopic = 'customer.start' | 'attributes' | 'customer.end';

/**
 * One Genesys event as Amazon EventBridge delivers it from the partner event bus
 * (docs/api.md section 3): `detail-type` is the topic template with a literal `{id}`.
 */
export type ConversationEventEnvelope = EventBridgeEnvelope<{
  topicName: string;
  version: '2';
  eventBody: Record<string, unknown>;
  metadata: { CorrelationId: string };
  timestamp: string;
}>;

/** A participant as stored (the view is SDK model `Participant`). */
export interface StoredParticipant {
  id: string;
  purpose: 'customer' | 'acd' | 'agent';
  startTime: string;
  connectedTime: string;
  endTime?: string;
  attributes: Record<string, string>;
  /** Id of the participant's web messaging session (SDK model `Message.id`). */
  sessionId: string;
  queueId?: string;
  userId?: string;
  externalContactId?: string;
  /** Messages the guest sent (analytics `mediaCount`). */
  messageCount: number;
}

/** A web messaging conversation as stored (the view is SDK model `Conversation`). */
export interface StoredConversation {
  id: string;
  startTime: string;
  endTime?: string;
  deploymentId?: string;
  divisionId: string;
  customer: StoredParticipant;
  others: StoredParticipant[];
}

/** One entry of the audit trail (SDK model `AuditLogMessage`). */
export interface StoredAuditEntry {
  id: string;
  userHomeOrgId: string;
  user?: { id: string };
  client?: { id: string };
  remoteIp: string[];
  serviceName: string;
  level: 'USER' | 'SYSTEM';
  status: 'SUCCESS' | 'FAILURE';
  eventDate: string;
  action: string;
  entity: { id: string; name?: string };
  entityType: string;
  propertyChanges: Array<{ property: string; oldValues: string[]; newValues: string[] }>;
  context: Record<string, string>;
}

/** An audit query as stored (status view: SDK model `AuditQueryExecutionStatusResponse`). */
export interface StoredAuditQuery {
  id: string;
  startDate: string;
  interval: string;
  serviceName: string;
  filters: Array<{ property: string; value: string }>;
  sort: Array<{ name: string; sortOrder: string }>;
  polls: number;
  pendingPolls: number;
  state: 'Running' | 'Succeeded';
  results: StoredAuditEntry[];
}

/** Where plaintext-looking PII reached the sandbox (values are never kept). */
export interface GenesysPiiFinding extends PiiFinding {
  operation: string;
  id: string;
}

/** A published event that the `publish` hook refused (the event stays in `events`). */
export interface PublishFailure {
  eventId: string;
  message: string;
}

/** Everything the sandbox holds; `reset` replaces it whole. */
export class GenesysWorld {
  tokens = new Map<string, { clientId: string; expiresAt: number; windowStart: number; windowCount: number }>();
  tokensIssued = 0;
  conversations = new Map<string, StoredConversation>();
  contacts = new Map<string, Record<string, unknown>>();
  externalSources = new Map<string, Record<string, unknown>>();
  schemas = new Map<string, Record<string, unknown>>();
  deployments = new Map<string, { deleted?: boolean; status?: string; [field: string]: unknown }>();
  integrations = new Map<string, Record<string, unknown>>();
  audits: StoredAuditEntry[] = [];
  auditQueries = new Map<string, StoredAuditQuery>();
  events: ConversationEventEnvelope[] = [];
  publishFailures: PublishFailure[] = [];
  piiFindings: GenesysPiiFinding[] = [];
  log: RequestLogEntry[] = [];
}

/** Settings a test can change at run time (`POST /__sandbox/config`). */
export interface GenesysSettings {
  tokenTtlSeconds: number;
  auditPendingPolls: number;
  /** Requests per minute each token may make (Genesys's default is 300); null: unlimited. */
  tokenRateLimitPerMinute: number | null;
}

/** What a resource's routes are built with. */
export interface GenesysContext {
  clock: SandboxClock;
  settings: GenesysSettings;
  /** The current world (it is replaced on reset, so always read it through this). */
  world(): GenesysWorld;
  nowIso(): string;
  /** The OAuth client behind the request's bearer token, if it is valid. */
  clientOf(req: { header(name: string): string | undefined }): string | undefined;
  /** Records an audit entry (and keeps it for audit queries). */
  audit(entry: Omit<StoredAuditEntry, 'id' | 'userHomeOrgId' | 'remoteIp' | 'level' | 'status' | 'eventDate' | 'context'>): void;
  /** Records (and publishes) one conversation event. */
  emit(topic: ConversationTopic, conversation: StoredConversation, eventBody: Record<string, unknown>): void;
  /** Notes plaintext-looking PII in something a caller sent. */
  notePii(operation: string, id: string, value: unknown): void;
}

/** Notes plaintext-looking PII into the world (shared by the context factory). */
export function collectPii(world: GenesysWorld, operation: string, id: string, value: unknown): void {
  for (const finding of findPii(value)) world.piiFindings.push({ operation, id, ...finding });
}

/** Listing pages as Genesys's `pageSize`/`pageNumber` endpoints read them. */
export function pageParams(query: URLSearchParams, maxPageSize: number): { pageSize: number; pageNumber: number } {
  const read = (name: string, fallback: number, max: number): number => {
    const raw = query.get(name);
    if (raw === null || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > max) throw invalid(name, `${name} must be an integer from 1 to ${max}`);
    return value;
  };
  return { pageSize: read('pageSize', 25, maxPageSize), pageNumber: read('pageNumber', 1, Number.MAX_SAFE_INTEGER) };
}

/**
 * A Genesys route: a `GenesysHttpError` thrown by the handler becomes Genesys's error body
 * with its own `code` and `details` (the shared pipeline only knows status and message).
 */
export function genesysRoute(method: string, path: string, operation: string, handler: RouteDef['handler']): RouteDef {
  return {
    method,
    path,
    operation,
    handler: async (req) => {
      try {
        return await handler(req);
      } catch (error) {
        if (error instanceof GenesysHttpError) {
          const reply = genesysError(error.status, error.message, req, { code: error.code, details: error.details });
          return { ...reply, headers: { ...reply.headers, ...error.headers } };
        }
        throw error;
      }
    },
  };
}
