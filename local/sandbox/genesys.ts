/**
 * Sandbox Genesys Cloud: the login host (`POST /oauth/token`) and the API host
 * (`/api/v2/...`) of contract section 4 on one in-memory server, with fault injection,
 * rate limiting and a state view for tests and the local stack.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { FaultEngine, type StoredFaultRule } from './faults.ts';
import {
  HttpError,
  applyRateLimitSetting,
  commonControlRoutes,
  controlRoute,
  optionalJson,
  startSandboxServer,
  type RequestLogEntry,
  type RouteDef,
  type SandboxReply,
  type SandboxRequest,
} from './server.ts';
import {
  FixedWindowRateLimiter,
  UUID_PATTERN,
  createClock,
  findPii,
  isIsoDateTime,
  isPlainObject,
  nonScalarKeys,
  type PiiFinding,
  type SandboxClock,
  type Scalar,
} from './util.ts';

/** Byte limit Genesys enforces on a session-attributes request body. */
export const SESSION_ATTRIBUTES_MAX_BYTES = 10_240;

/** Status values a web deployment can have. */
export type DeploymentStatus = 'Active' | 'Inactive' | 'Error' | 'Deleting';

/** One OAuth client the sandbox accepts. */
export interface GenesysClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** Options of `startGenesysSandbox`. */
export interface GenesysSandboxOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Accepted client credentials. */
  clients: GenesysClientCredentials[];
  /** Lifetime of issued tokens (default 3600). */
  tokenTtlSeconds?: number;
  /** API requests allowed per one-second window (default: unlimited). */
  rateLimitPerSecond?: number | null;
  /** Time source in epoch ms (default `Date.now`); inject one to move time in tests. */
  clock?: () => number;
  /** Status polls an audit query answers `Running` before `Succeeded` (default 0). */
  auditPendingPolls?: number;
  /** Request body cap (default 1 MiB; beyond: 413). */
  maxBodyBytes?: number;
}

/** A guest as the API returns it. */
export interface SandboxGuest {
  id: string;
  createdDate: string;
  modifiedDate: string;
  version: number;
  attributes?: Record<string, unknown>;
  closedDate?: string;
  messageCount?: number;
  avgResponseTimeMs?: number;
  conversionFlag?: boolean;
  [field: string]: unknown;
}

/** A registered webhook as stored (the secret is never kept in views). */
export interface SandboxWebhook {
  id: string;
  name: string;
  description?: string;
  enabled: boolean;
  type: 'web';
  address: string;
  events: string[];
  filter?: string;
  httpHeaders?: Record<string, string>;
  hasSecret: boolean;
  dateCreated: string;
  selfUri: string;
}

/** A web messaging conversation as stored. */
export interface SandboxConversation {
  id: string;
  channel?: string;
  routing: { queueId: string; skills?: unknown[] };
  contact: { attributes: Record<string, Scalar> };
  customerParticipantId: string;
  agentParticipantId: string;
  createdDate: string;
  contactUpdates: number;
}

/** One platform audit entry, in the public audit-query result shape. */
export interface SandboxAuditEntry {
  id: string;
  userHomeOrgId: string;
  user?: { id: string };
  client?: { id: string };
  remoteIp: string[];
  serviceName: 'Conversations';
  level: 'USER';
  status: 'SUCCESS';
  eventDate: string;
  action: 'Create' | 'Update';
  entity: { id: string; type: 'Guest' };
  entityType: 'Guest';
  propertyChanges: Array<{ property: string; oldValues: string[]; newValues: string[] }>;
  context: Record<string, string>;
}

/** A deployment the control route changed (or deleted). */
export interface SandboxDeploymentOverride {
  deleted?: boolean;
  status?: DeploymentStatus;
  [field: string]: unknown;
}

/** Where plaintext-looking PII reached the sandbox (values are never kept). */
export interface GenesysPiiFinding extends PiiFinding {
  operation: string;
  id: string;
}

/** Everything `GET /__sandbox/state` (and `state()`) shows. */
export interface GenesysSandboxState {
  now: string;
  config: {
    clientIds: string[];
    tokenTtlSeconds: number;
    rateLimitPerSecond: number | null;
    auditPendingPolls: number;
  };
  /** Session id -> its merged attributes. */
  sessions: Record<string, Record<string, Scalar>>;
  expiredSessions: string[];
  /** Guest id -> the guest as GET returns it; its ETag is `"<version>"`. */
  guests: Record<string, SandboxGuest>;
  conversations: Record<string, SandboxConversation>;
  webhooks: SandboxWebhook[];
  deployments: Record<string, SandboxDeploymentOverride>;
  audits: SandboxAuditEntry[];
  auditQueries: Array<{ id: string; state: string; polls: number; serviceName: string; interval: string; resultCount: number }>;
  tokensIssued: number;
  activeTokens: number;
  piiFindings: GenesysPiiFinding[];
  faults: StoredFaultRule[];
  requests: RequestLogEntry[];
}

/** A running Genesys sandbox. */
export interface GenesysSandbox {
  /** Base URL for both GENESYS_LOGIN_BASE_URL and GENESYS_API_BASE_URL. */
  url: string;
  port: number;
  close(): Promise<void>;
  /** A deep copy of the current state. */
  state(): GenesysSandboxState;
  /** Same as `POST /__sandbox/reset`. */
  reset(): void;
  /** The fault engine (same rules as `/__sandbox/faults`). */
  faults: FaultEngine;
  /** The sandbox clock (advance it to expire tokens). */
  clock: SandboxClock;
}

const ORG_ID = '00000000-0000-4000-8000-00000000a11c';
const OTHER_WRITER = 'sandbox-other-writer';
const MAX_LOG = 5_000;
const GUEST_RESERVED = new Set(['id', 'createdDate', 'modifiedDate', 'version']);
const DEPLOYMENT_STATUSES = new Set<DeploymentStatus>(['Active', 'Inactive', 'Error', 'Deleting']);
const AUDIT_FILTERS: Record<string, (entry: SandboxAuditEntry) => string | undefined> = {
  entityid: (entry) => entry.entity.id,
  entitytype: (entry) => entry.entityType,
  action: (entry) => entry.action,
  userid: (entry) => entry.user?.id,
  clientid: (entry) => entry.client?.id,
};

const ERROR_CODES: Record<number, string> = {
  400: 'bad.request',
  401: 'bad.credentials',
  403: 'missing.permissions',
  404: 'not.found',
  405: 'method.not.allowed',
  409: 'conflict',
  412: 'precondition.failed',
  413: 'request.entity.too.large',
  428: 'precondition.required',
  429: 'too.many.requests',
  500: 'internal.server.error',
  502: 'bad.gateway',
  503: 'service.unavailable',
  504: 'gateway.timeout',
};

interface AuditQuery {
  id: string;
  startDate: string;
  interval: string;
  serviceName: string;
  filters: Array<{ property: string; value: string }>;
  polls: number;
  pendingPolls: number;
  state: 'Pending' | 'Running' | 'Succeeded';
  results: SandboxAuditEntry[];
}

class World {
  sessions = new Map<string, Record<string, Scalar>>();
  expiredSessions = new Set<string>();
  guests = new Map<string, SandboxGuest>();
  conversations = new Map<string, SandboxConversation>();
  webhooks = new Map<string, SandboxWebhook>();
  deployments = new Map<string, SandboxDeploymentOverride>();
  audits: SandboxAuditEntry[] = [];
  auditQueries = new Map<string, AuditQuery>();
  tokens = new Map<string, { clientId: string; expiresAt: number }>();
  tokensIssued = 0;
  piiFindings: GenesysPiiFinding[] = [];
  log: RequestLogEntry[] = [];
}

function genesysError(status: number, message: string, req: { correlationId: string }): SandboxReply {
  return {
    status,
    body: {
      message,
      code: ERROR_CODES[status] ?? (status >= 500 ? 'internal.server.error' : 'bad.request'),
      status,
      contextId: req.correlationId,
      details: [],
      errors: [],
    },
  };
}

function etagOf(guest: SandboxGuest): string {
  return `"${guest.version}"`;
}

/** RFC 9110 If-Match, with weak tags compared by their opaque part. */
function ifMatchHolds(header: string, current: string): boolean {
  return header
    .split(',')
    .map((tag) => tag.trim())
    .some((tag) => tag === '*' || tag.replace(/^W\//, '') === current);
}

function stringValues(value: unknown): string[] {
  if (value === undefined) return [];
  return [typeof value === 'string' ? value : JSON.stringify(value)];
}

function requireObject(value: unknown, what: string): Record<string, unknown> {
  if (!isPlainObject(value)) throw new HttpError(400, `${what} must be a JSON object`);
  return value;
}

function requireFlatAttributes(value: unknown, what: string): Record<string, Scalar> {
  const attributes = requireObject(value, what);
  const bad = nonScalarKeys(attributes);
  if (bad.length > 0) {
    throw new HttpError(400, `${what} values must be strings, numbers or booleans; invalid: ${bad.join(', ')}`);
  }
  return attributes as Record<string, Scalar>;
}

/** Starts the Genesys Cloud sandbox on 127.0.0.1. */
export async function startGenesysSandbox(options: GenesysSandboxOptions): Promise<GenesysSandbox> {
  const clock = createClock(options.clock);
  const faults = new FaultEngine();
  const initial = {
    clients: options.clients.map((client) => ({ ...client })),
    tokenTtlSeconds: options.tokenTtlSeconds ?? 3600,
    rateLimitPerSecond: options.rateLimitPerSecond ?? null,
    auditPendingPolls: options.auditPendingPolls ?? 0,
  };
  let clients = initial.clients.map((client) => ({ ...client }));
  let tokenTtlSeconds = initial.tokenTtlSeconds;
  let auditPendingPolls = initial.auditPendingPolls;
  const limiter = new FixedWindowRateLimiter(clock, initial.rateLimitPerSecond);
  let world = new World();

  const nowIso = (): string => new Date(clock.now()).toISOString();

  const reset = (): void => {
    world = new World();
    faults.clear();
    clock.reset();
    clients = initial.clients.map((client) => ({ ...client }));
    tokenTtlSeconds = initial.tokenTtlSeconds;
    auditPendingPolls = initial.auditPendingPolls;
    limiter.setLimit(initial.rateLimitPerSecond);
  };

  const notePii = (operation: string, id: string, value: unknown): void => {
    for (const finding of findPii(value)) world.piiFindings.push({ operation, id, ...finding });
  };

  const bearerClient = (req: SandboxRequest): string | undefined => {
    const match = /^Bearer\s+(\S+)$/i.exec(req.header('authorization') ?? '');
    const token = match?.[1] ? world.tokens.get(match[1]) : undefined;
    if (!token || token.expiresAt <= clock.now()) return undefined;
    return token.clientId;
  };

  const audit = (
    action: SandboxAuditEntry['action'],
    before: SandboxGuest | undefined,
    after: SandboxGuest,
    changed: string[],
    actor: { user?: string; client?: string },
  ): void => {
    const entry: SandboxAuditEntry = {
      id: randomUUID(),
      userHomeOrgId: ORG_ID,
      remoteIp: ['127.0.0.1'],
      serviceName: 'Conversations',
      level: 'USER',
      status: 'SUCCESS',
      eventDate: nowIso(),
      action,
      entity: { id: after.id, type: 'Guest' },
      entityType: 'Guest',
      propertyChanges: changed.map((property) => ({
        property,
        oldValues: stringValues(before?.[property]),
        newValues: stringValues(after[property]),
      })),
      context: {},
    };
    if (actor.user) entry.user = { id: actor.user };
    if (actor.client) entry.client = { id: actor.client };
    world.audits.push(entry);
  };

  /** Shallow merge; `attributes` merges key by key; null deletes. */
  const mergeGuest = (guest: SandboxGuest, changes: Record<string, unknown>, allowDates: boolean): string[] => {
    const changed: string[] = [];
    for (const [key, value] of Object.entries(changes)) {
      if (key === 'id' || key === 'version') continue;
      if (GUEST_RESERVED.has(key) && !allowDates) continue;
      changed.push(key);
      if (value === null) {
        delete guest[key];
      } else if (key === 'attributes' && isPlainObject(value) && isPlainObject(guest.attributes)) {
        const merged: Record<string, unknown> = { ...guest.attributes };
        for (const [name, item] of Object.entries(value)) {
          if (item === null) delete merged[name];
          else merged[name] = item;
        }
        guest.attributes = merged;
      } else {
        guest[key] = structuredClone(value);
      }
    }
    return changed;
  };

  const guestReply = (status: number, guest: SandboxGuest): SandboxReply => ({
    status,
    body: structuredClone(guest),
    headers: { etag: etagOf(guest) },
  });

  const findGuest = (id: string | undefined): SandboxGuest => {
    const guest = id ? world.guests.get(id) : undefined;
    if (!guest) throw new HttpError(404, `Guest ${id ?? ''} not found`);
    return guest;
  };

  const deploymentView = (id: string): Record<string, unknown> => {
    const override = world.deployments.get(id) ?? {};
    if (override.deleted) throw new HttpError(404, `Web deployment ${id} not found`);
    const { deleted: _deleted, ...fields } = override;
    return {
      id,
      name: `Sandbox deployment ${id.slice(0, 8)}`,
      description: 'Sandbox web messaging deployment',
      allowAllDomains: true,
      allowedDomains: [],
      configuration: { id: `${id}-configuration`, version: '1' },
      status: 'Active',
      dateCreated: '2024-01-01T00:00:00.000Z',
      dateModified: '2024-01-01T00:00:00.000Z',
      selfUri: `/api/v2/webdeployments/deployments/${id}`,
      ...fields,
    };
  };

  const auditQueryStatus = (query: AuditQuery): Record<string, unknown> => ({
    id: query.id,
    state: query.state,
    startDate: query.startDate,
    interval: query.interval,
    serviceName: query.serviceName,
    filters: query.filters,
  });

  const routes: RouteDef[] = [
    {
      method: 'POST',
      path: '/oauth/token',
      operation: 'token',
      handler: (req) => {
        const oauthError = (status: number, error: string, description: string): SandboxReply => ({
          status,
          body: { error, error_description: description },
          headers: status === 401 ? { 'www-authenticate': 'Basic realm="genesys-sandbox"' } : {},
        });
        const basic = /^Basic\s+(\S+)$/i.exec(req.header('authorization') ?? '');
        const decoded = basic?.[1] ? Buffer.from(basic[1], 'base64').toString('utf8') : '';
        const separator = decoded.indexOf(':');
        const clientId = separator > 0 ? decoded.slice(0, separator) : '';
        const clientSecret = separator > 0 ? decoded.slice(separator + 1) : '';
        const client = clients.find((candidate) => candidate.clientId === clientId && candidate.clientSecret === clientSecret);
        if (!client) return oauthError(401, 'invalid_client', 'Client authentication failed');
        const contentType = req.header('content-type') ?? '';
        if (!contentType.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
          return oauthError(400, 'invalid_request', 'The body must be application/x-www-form-urlencoded');
        }
        const form = new URLSearchParams(req.rawBody.toString('utf8'));
        const grantType = form.get('grant_type');
        if (!grantType) return oauthError(400, 'invalid_request', 'grant_type is required');
        if (grantType !== 'client_credentials') {
          return oauthError(400, 'unsupported_grant_type', 'Only client_credentials is supported');
        }
        const accessToken = randomBytes(32).toString('base64url');
        world.tokens.set(accessToken, { clientId: client.clientId, expiresAt: clock.now() + tokenTtlSeconds * 1000 });
        world.tokensIssued += 1;
        return {
          status: 200,
          body: { access_token: accessToken, token_type: 'bearer', expires_in: tokenTtlSeconds },
          headers: { 'cache-control': 'no-store' },
        };
      },
    },
    {
      method: 'PUT',
      path: '/api/v2/guests/messagesessions/:sessionId/attributes',
      operation: 'putSessionAttributes',
      handler: (req) => {
        const sessionId = (req.params.sessionId ?? '').toLowerCase();
        if (!UUID_PATTERN.test(sessionId) || world.expiredSessions.has(sessionId)) {
          throw new HttpError(404, 'Session not found or expired');
        }
        if (req.rawBody.length > SESSION_ATTRIBUTES_MAX_BYTES) {
          throw new HttpError(
            400,
            `Request body is ${req.rawBody.length} bytes; the limit is ${SESSION_ATTRIBUTES_MAX_BYTES}`,
          );
        }
        const body = requireObject(req.json(), 'The body');
        const attributes = requireFlatAttributes(body.attributes, 'attributes');
        const merged = { ...world.sessions.get(sessionId), ...attributes };
        world.sessions.set(sessionId, merged);
        notePii('putSessionAttributes', sessionId, attributes);
        return { status: 200, body: { sessionId, attributes: merged } };
      },
    },
    {
      method: 'POST',
      path: '/api/v2/webhooks',
      operation: 'registerWebhook',
      handler: (req) => {
        const body = requireObject(req.json(), 'The body');
        const problems: string[] = [];
        const optionalString = (key: string): void => {
          if (body[key] !== undefined && typeof body[key] !== 'string') problems.push(`${key} must be a string`);
        };
        if (typeof body.name !== 'string' || body.name.trim() === '') problems.push('name is required');
        if (body.type !== 'web') problems.push('type must be "web"');
        let address: URL | undefined;
        try {
          address = typeof body.address === 'string' ? new URL(body.address) : undefined;
        } catch {
          address = undefined;
        }
        if (!address || address.protocol !== 'https:') problems.push('address must be an https URL');
        if (
          !Array.isArray(body.events) ||
          body.events.length === 0 ||
          !body.events.every((event) => typeof event === 'string' && event !== '')
        ) {
          problems.push('events must be a non-empty array of event names');
        }
        if (body.enabled !== undefined && typeof body.enabled !== 'boolean') problems.push('enabled must be a boolean');
        optionalString('description');
        optionalString('filter');
        optionalString('secret');
        if (
          body.httpHeaders !== undefined &&
          (!isPlainObject(body.httpHeaders) || !Object.values(body.httpHeaders).every((v) => typeof v === 'string'))
        ) {
          problems.push('httpHeaders must be an object of strings');
        }
        if (problems.length > 0) throw new HttpError(400, problems.join('; '));
        const id = randomUUID();
        const webhook: SandboxWebhook = {
          id,
          name: body.name as string,
          enabled: (body.enabled as boolean | undefined) ?? true,
          type: 'web',
          address: body.address as string,
          events: [...(body.events as string[])],
          hasSecret: typeof body.secret === 'string' && body.secret !== '',
          dateCreated: nowIso(),
          selfUri: `/api/v2/webhooks/${id}`,
        };
        if (typeof body.description === 'string') webhook.description = body.description;
        if (typeof body.filter === 'string') webhook.filter = body.filter;
        if (isPlainObject(body.httpHeaders)) webhook.httpHeaders = { ...(body.httpHeaders as Record<string, string>) };
        world.webhooks.set(id, webhook);
        const { hasSecret: _hasSecret, ...view } = webhook;
        return { status: 201, body: view };
      },
    },
    {
      method: 'POST',
      path: '/api/v2/conversations/webmessaging/guests',
      operation: 'createGuest',
      handler: (req) => {
        const body = requireObject(req.json(), 'The body');
        const now = nowIso();
        const guest: SandboxGuest = { id: randomUUID(), createdDate: now, modifiedDate: now, version: 1 };
        const changed = mergeGuest(guest, body, false);
        world.guests.set(guest.id, guest);
        notePii('createGuest', guest.id, body);
        audit('Create', undefined, guest, changed, { client: bearerClient(req) });
        return guestReply(201, guest);
      },
    },
    {
      method: 'GET',
      path: '/api/v2/conversations/webmessaging/guests/:guestId',
      operation: 'getGuest',
      handler: (req) => guestReply(200, findGuest(req.params.guestId)),
    },
    {
      method: 'PATCH',
      path: '/api/v2/conversations/webmessaging/guests/:guestId',
      operation: 'updateGuest',
      handler: (req) => {
        const guest = findGuest(req.params.guestId);
        const ifMatch = req.header('if-match');
        if (!ifMatch) throw new HttpError(428, 'If-Match is required to update a guest');
        if (!ifMatchHolds(ifMatch, etagOf(guest))) {
          throw new HttpError(412, 'The guest was modified since the given ETag');
        }
        const changes = requireObject(req.json(), 'The body');
        const before = structuredClone(guest);
        const changed = mergeGuest(guest, changes, false);
        guest.version += 1;
        guest.modifiedDate = nowIso();
        notePii('updateGuest', guest.id, changes);
        audit('Update', before, guest, changed, { client: bearerClient(req) });
        return guestReply(200, guest);
      },
    },
    {
      method: 'POST',
      path: '/api/v2/audits/query',
      operation: 'submitAuditQuery',
      handler: (req) => {
        const body = requireObject(req.json(), 'The body');
        const interval = typeof body.interval === 'string' ? body.interval : '';
        const [from, to, extra] = interval.split('/');
        if (!from || !to || extra !== undefined || !isIsoDateTime(from) || !isIsoDateTime(to) || Date.parse(from) >= Date.parse(to)) {
          throw new HttpError(400, 'interval must be "<ISO start>/<ISO end>" with start before end');
        }
        if (typeof body.serviceName !== 'string' || body.serviceName === '') {
          throw new HttpError(400, 'serviceName is required');
        }
        const rawFilters = body.filters ?? [];
        if (!Array.isArray(rawFilters)) throw new HttpError(400, 'filters must be an array');
        const filters = rawFilters.map((filter, index) => {
          if (!isPlainObject(filter) || typeof filter.property !== 'string' || typeof filter.value !== 'string') {
            throw new HttpError(400, `filters[${index}] must be {property, value} strings`);
          }
          if (!AUDIT_FILTERS[filter.property.toLowerCase()]) {
            throw new HttpError(400, `filters[${index}].property ${filter.property} is not supported`);
          }
          return { property: filter.property, value: filter.value };
        });
        let descending = false;
        if (Array.isArray(body.sort)) {
          const first = body.sort[0];
          descending = isPlainObject(first) && String(first.sortOrder).toLowerCase() === 'descending';
        }
        const start = Date.parse(from);
        const end = Date.parse(to);
        const serviceName = body.serviceName;
        const results = world.audits
          .filter((entry) => entry.serviceName.toLowerCase() === serviceName.toLowerCase())
          .filter((entry) => {
            const at = Date.parse(entry.eventDate);
            return at >= start && at < end;
          })
          .filter((entry) =>
            filters.every((filter) => AUDIT_FILTERS[filter.property.toLowerCase()]?.(entry) === filter.value),
          )
          .map((entry) => structuredClone(entry));
        if (descending) results.reverse();
        const query: AuditQuery = {
          id: randomUUID(),
          startDate: nowIso(),
          interval,
          serviceName,
          filters,
          polls: 0,
          pendingPolls: auditPendingPolls,
          state: 'Pending',
          results,
        };
        world.auditQueries.set(query.id, query);
        return { status: 202, body: auditQueryStatus(query) };
      },
    },
    {
      method: 'GET',
      path: '/api/v2/audits/query/:transactionId',
      operation: 'getAuditQuery',
      handler: (req) => {
        const query = world.auditQueries.get(req.params.transactionId ?? '');
        if (!query) throw new HttpError(404, 'Audit query not found');
        query.polls += 1;
        query.state = query.polls > query.pendingPolls ? 'Succeeded' : 'Running';
        return { status: 200, body: auditQueryStatus(query) };
      },
    },
    {
      method: 'GET',
      path: '/api/v2/audits/query/:transactionId/results',
      operation: 'getAuditQueryResults',
      handler: (req) => {
        const query = world.auditQueries.get(req.params.transactionId ?? '');
        if (!query) throw new HttpError(404, 'Audit query not found');
        if (query.state !== 'Succeeded') {
          if (query.pendingPolls > 0) throw new HttpError(400, 'The audit query has not completed yet');
          query.state = 'Succeeded';
        }
        const rawSize = req.query.get('pageSize');
        const pageSize = rawSize === null || rawSize === '' ? 25 : Number(rawSize);
        if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 500) {
          throw new HttpError(400, 'pageSize must be an integer from 1 to 500');
        }
        const rawCursor = req.query.get('cursor');
        let offset = 0;
        if (rawCursor) {
          const decoded = /^offset:(\d+)$/.exec(Buffer.from(rawCursor, 'base64url').toString('utf8'));
          if (!decoded?.[1]) throw new HttpError(400, 'cursor is not valid');
          offset = Number(decoded[1]);
        }
        const entities = query.results.slice(offset, offset + pageSize);
        const next = offset + pageSize;
        const body: Record<string, unknown> = { id: query.id, pageSize, entities };
        if (next < query.results.length) body.cursor = Buffer.from(`offset:${next}`).toString('base64url');
        return { status: 200, body };
      },
    },
    {
      method: 'POST',
      path: '/api/v2/webmessaging/conversations',
      operation: 'createConversation',
      handler: (req) => {
        const body = requireObject(req.json(), 'The body');
        const routing = requireObject(body.routing, 'routing');
        if (typeof routing.queueId !== 'string' || routing.queueId === '') {
          throw new HttpError(400, 'routing.queueId is required');
        }
        if (routing.skills !== undefined && !Array.isArray(routing.skills)) {
          throw new HttpError(400, 'routing.skills must be an array');
        }
        if (body.channel !== undefined && typeof body.channel !== 'string') {
          throw new HttpError(400, 'channel must be a string');
        }
        const contact = body.contact === undefined ? {} : requireObject(body.contact, 'contact');
        const attributes =
          contact.attributes === undefined ? {} : requireFlatAttributes(contact.attributes, 'contact.attributes');
        const conversation: SandboxConversation = {
          id: randomUUID(),
          routing: { queueId: routing.queueId },
          contact: { attributes: { ...attributes } },
          customerParticipantId: randomUUID(),
          agentParticipantId: randomUUID(),
          createdDate: nowIso(),
          contactUpdates: 0,
        };
        if (typeof body.channel === 'string') conversation.channel = body.channel;
        if (Array.isArray(routing.skills)) conversation.routing.skills = structuredClone(routing.skills);
        world.conversations.set(conversation.id, conversation);
        notePii('createConversation', conversation.id, attributes);
        return {
          status: 201,
          body: {
            id: conversation.id,
            channel: conversation.channel,
            routing: conversation.routing,
            contact: conversation.contact,
            state: 'connected',
            dateCreated: conversation.createdDate,
            selfUri: `/api/v2/conversations/${conversation.id}`,
          },
        };
      },
    },
    {
      method: 'PUT',
      path: '/api/v2/webmessaging/conversations/:conversationId/contact',
      operation: 'updateContact',
      handler: (req) => {
        const conversation = world.conversations.get(req.params.conversationId ?? '');
        if (!conversation) throw new HttpError(404, 'Conversation not found');
        const body = requireObject(req.json(), 'The body');
        const attributes = requireFlatAttributes(body.attributes, 'attributes');
        conversation.contact.attributes = { ...conversation.contact.attributes, ...attributes };
        conversation.contactUpdates += 1;
        notePii('updateContact', conversation.id, attributes);
        return { status: 200, body: { id: conversation.id, attributes: conversation.contact.attributes } };
      },
    },
    {
      method: 'GET',
      path: '/api/v2/conversations/:conversationId',
      operation: 'getConversation',
      handler: (req) => {
        const conversation = world.conversations.get(req.params.conversationId ?? '');
        if (!conversation) throw new HttpError(404, 'Conversation not found');
        return {
          status: 200,
          body: {
            id: conversation.id,
            startTime: conversation.createdDate,
            participants: [
              {
                id: conversation.customerParticipantId,
                purpose: 'customer',
                state: 'connected',
                attributes: { ...conversation.contact.attributes },
              },
              {
                id: conversation.agentParticipantId,
                purpose: 'agent',
                state: 'alerting',
                queueId: conversation.routing.queueId,
                attributes: {},
              },
            ],
            selfUri: `/api/v2/conversations/${conversation.id}`,
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/api/v2/webdeployments/deployments/:deploymentId',
      operation: 'getWebDeployment',
      handler: (req) => ({ status: 200, body: deploymentView(req.params.deploymentId ?? '') }),
    },
  ];

  const state = (): GenesysSandboxState =>
    structuredClone({
      now: nowIso(),
      config: {
        clientIds: clients.map((client) => client.clientId),
        tokenTtlSeconds,
        rateLimitPerSecond: limiter.perSecond,
        auditPendingPolls,
      },
      sessions: Object.fromEntries(world.sessions),
      expiredSessions: [...world.expiredSessions],
      guests: Object.fromEntries(world.guests),
      conversations: Object.fromEntries(world.conversations),
      webhooks: [...world.webhooks.values()],
      deployments: Object.fromEntries(world.deployments),
      audits: world.audits,
      auditQueries: [...world.auditQueries.values()].map((query) => ({
        id: query.id,
        state: query.state,
        polls: query.polls,
        serviceName: query.serviceName,
        interval: query.interval,
        resultCount: query.results.length,
      })),
      tokensIssued: world.tokensIssued,
      activeTokens: [...world.tokens.values()].filter((token) => token.expiresAt > clock.now()).length,
      piiFindings: world.piiFindings,
      faults: faults.list(),
      requests: world.log,
    });

  const controlRoutes: RouteDef[] = [
    ...commonControlRoutes({ state, reset, faults, clock }),
    controlRoute('POST', '/__sandbox/config', (req) => {
      const body = requireObject(req.json(), 'The body');
      applyRateLimitSetting(body, limiter);
      if (body.tokenTtlSeconds !== undefined) {
        const ttl = body.tokenTtlSeconds;
        if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1) {
          throw new HttpError(400, 'tokenTtlSeconds must be a positive integer');
        }
        tokenTtlSeconds = ttl;
      }
      if (body.auditPendingPolls !== undefined) {
        const polls = body.auditPendingPolls;
        if (typeof polls !== 'number' || !Number.isInteger(polls) || polls < 0) {
          throw new HttpError(400, 'auditPendingPolls must be a non-negative integer');
        }
        auditPendingPolls = polls;
      }
      return { status: 200, body: state().config };
    }),
    controlRoute('PUT', '/__sandbox/clients', (req) => {
      const body = requireObject(req.json(), 'The body');
      const list = body.clients;
      if (
        !Array.isArray(list) ||
        !list.every(
          (client) =>
            isPlainObject(client) &&
            typeof client.clientId === 'string' &&
            client.clientId !== '' &&
            typeof client.clientSecret === 'string' &&
            client.clientSecret !== '',
        )
      ) {
        throw new HttpError(400, 'clients must be an array of {clientId, clientSecret}');
      }
      clients = (list as GenesysClientCredentials[]).map(({ clientId, clientSecret }) => ({ clientId, clientSecret }));
      if (body.revokeTokens === true) world.tokens.clear();
      return { status: 200, body: { clientIds: clients.map((client) => client.clientId) } };
    }),
    controlRoute('POST', '/__sandbox/tokens/expire', () => {
      const now = clock.now();
      let expired = 0;
      for (const token of world.tokens.values()) {
        if (token.expiresAt > now) expired += 1;
        token.expiresAt = Math.min(token.expiresAt, now);
      }
      return { status: 200, body: { expired } };
    }),
    controlRoute('POST', '/__sandbox/sessions/:sessionId/expire', (req) => {
      const sessionId = (req.params.sessionId ?? '').toLowerCase();
      world.expiredSessions.add(sessionId);
      return { status: 200, body: { sessionId, expired: true } };
    }),
    controlRoute('POST', '/__sandbox/guests/:guestId/touch', (req) => {
      const guest = findGuest(req.params.guestId);
      const changes = requireObject(optionalJson(req) ?? {}, 'The body');
      const before = structuredClone(guest);
      const changed = mergeGuest(guest, changes, true);
      guest.version += 1;
      if (changes.modifiedDate === undefined) guest.modifiedDate = nowIso();
      audit('Update', before, guest, changed, { user: OTHER_WRITER });
      return guestReply(200, guest);
    }),
    controlRoute('POST', '/__sandbox/deployments/:deploymentId', (req) => {
      const id = req.params.deploymentId ?? '';
      const body = requireObject(req.json(), 'The body');
      if (body.status !== undefined && !DEPLOYMENT_STATUSES.has(body.status as DeploymentStatus)) {
        throw new HttpError(400, 'status must be Active, Inactive, Error or Deleting');
      }
      const { id: _id, ...fields } = body;
      world.deployments.set(id, { ...fields });
      return { status: 200, body: deploymentView(id) };
    }),
    controlRoute('DELETE', '/__sandbox/deployments/:deploymentId', (req) => {
      world.deployments.set(req.params.deploymentId ?? '', { deleted: true });
      return { status: 204 };
    }),
  ];

  const server = await startSandboxServer({
    port: options.port,
    clock,
    faults,
    maxBodyBytes: options.maxBodyBytes,
    routes,
    controlRoutes,
    errorReply: genesysError,
    commonHeaders: (req) => ({ 'inin-correlation-id': req.correlationId }),
    guard: (req) => {
      if (req.operation === 'token') return undefined;
      if (!limiter.tryAcquire()) {
        const reply = genesysError(429, 'Rate limit exceeded the maximum requests per second', req);
        return { ...reply, headers: { 'retry-after': '1' } };
      }
      if (!bearerClient(req)) return genesysError(401, 'A valid bearer token is required', req);
      return undefined;
    },
    onLog: (entry) => {
      world.log.push(entry);
      if (world.log.length > MAX_LOG) world.log.splice(0, world.log.length - MAX_LOG);
    },
  });

  return { url: server.url, port: server.port, close: server.close, state, reset, faults, clock };
}
