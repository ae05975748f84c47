/**
 * Sandbox Genesys Cloud, version 2: the login host and the API host serving exactly the
 * operations of docs/api.md section 4 (anything else: 404 with Genesys's error body), shaped
 * by the official SDK's models, plus the Messenger simulator of docs/api.md section 9 and the
 * conversation events of section 3. Keeps expiring tokens, faults, rate limits (Genesys's
 * 429), state views and a movable clock.
 */
import { randomUUID } from 'node:crypto';
import { FaultEngine, type StoredFaultRule } from '../faults.ts';
import {
  HttpError,
  applyRateLimitSetting,
  controlRoute,
  optionalJson,
  startSandboxServer,
  type RequestLogEntry,
  type RouteDef,
} from '../server.ts';
import { FixedWindowRateLimiter, createClock, isPlainObject, type SandboxClock } from '../util.ts';
import { analyticsRoutes } from './analytics.ts';
import { AUDIT_SERVICE_NAMES, auditRoutes, auditServiceName } from './audits.ts';
import {
  GenesysWorld,
  MAX_LOG,
  SANDBOX_ORG_ID,
  collectPii,
  genesysError,
  type ConversationEventEnvelope,
  type GenesysContext,
  type GenesysPiiFinding,
  type GenesysSettings,
  type PublishFailure,
  type StoredAuditEntry,
  type StoredConversation,
} from './context.ts';
import { conversationRoutes } from './conversations.ts';
import { buildEnvelope, partnerEventSource, putEventsPublisher, type EventSourceOptions, type PublishHook } from './events.ts';
import { createContactSchema, createExternalSource, externalContactRoutes, touchContact } from './external-contacts.ts';
import { integrationRoutes } from './integrations.ts';
import { messengerRoutes } from './messenger.ts';
import { bearerToken, spendTokenBudget, tokenRoutes, type GenesysClientCredentials } from './tokens.ts';
import { DEPLOYMENT_STATUSES, deploymentView, webDeploymentRoutes } from './web-deployments.ts';

export type { GenesysClientCredentials } from './tokens.ts';
export type { ConversationEventEnvelope, ConversationTopic, GenesysPiiFinding, PublishFailure, StoredAuditEntry } from './context.ts';
export type { PublishHook } from './events.ts';
export { AUDIT_SERVICE_NAMES } from './audits.ts';
export { EVENTBRIDGE_INTEGRATION_TYPE } from './integrations.ts';
export { partnerEventSource, putEventsPublisher, topicTemplate } from './events.ts';

/** Options of `startGenesysSandboxV2` (the same style as the first sandbox's). */
export interface GenesysSandboxV2Options {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Accepted client credentials. */
  clients: GenesysClientCredentials[];
  /** Lifetime of issued tokens (default 3600). */
  tokenTtlSeconds?: number;
  /** API requests allowed per one-second window for the whole organisation (default: unlimited). */
  rateLimitPerSecond?: number | null;
  /** Requests per minute each token may make (Genesys's default is 300; here default unlimited). */
  tokenRateLimitPerMinute?: number | null;
  /** Time source in epoch ms (default `Date.now`); inject one to move time in tests. */
  clock?: () => number;
  /** Status polls an audit query answers `Running` before `Succeeded` (default 0). */
  auditPendingPolls?: number;
  /** Request body cap (default 1 MiB; beyond: 413). */
  maxBodyBytes?: number;
  /** Partner event source the events name (defaults: the sandbox org, suffix `guest-sync-local`, account 000000000000, us-east-1). */
  eventSource?: Partial<EventSourceOptions>;
  /** Receives every conversation event, in order (e.g. to hand it to a local event bus). */
  publish?: PublishHook;
  /** An EventBridge `PutEvents` endpoint to send every event to (with `eventBusName`). */
  putEvents?: { url: string; eventBusName: string };
  /**
   * What the organisation already holds at start and after every reset, created through
   * the same checks as the API (request bodies of `postExternalcontactsExternalsources`
   * and `postExternalcontactsContactsSchemas`, with the id each one gets).
   */
  seed?: GenesysSandboxSeed;
}

/** Entities an organisation has before the suite runs (e.g. after `npm run setup-genesys`). */
export interface GenesysSandboxSeed {
  externalSources?: Array<{ id: string; body: Record<string, unknown> }>;
  contactSchemas?: Array<{ id: string; body: Record<string, unknown> }>;
}

/** Everything `GET /__sandbox/state` (and `state()`) shows. */
export interface GenesysSandboxV2State {
  now: string;
  config: {
    clientIds: string[];
    tokenTtlSeconds: number;
    rateLimitPerSecond: number | null;
    tokenRateLimitPerMinute: number | null;
    auditPendingPolls: number;
    eventSource: string;
  };
  conversations: Record<string, StoredConversation>;
  externalContacts: Record<string, Record<string, unknown>>;
  externalSources: Array<Record<string, unknown>>;
  contactSchemas: Array<Record<string, unknown>>;
  integrations: Array<Record<string, unknown>>;
  deployments: Record<string, Record<string, unknown>>;
  audits: StoredAuditEntry[];
  auditQueries: Array<{ id: string; state: string; polls: number; serviceName: string; interval: string; resultCount: number }>;
  /** Every conversation event produced, in order, in the EventBridge envelope. */
  events: ConversationEventEnvelope[];
  publishFailures: PublishFailure[];
  tokensIssued: number;
  activeTokens: number;
  piiFindings: GenesysPiiFinding[];
  faults: StoredFaultRule[];
  requests: RequestLogEntry[];
}

/** A running sandbox Genesys (version 2). */
export interface GenesysSandboxV2 {
  /** Base URL for both GENESYS_LOGIN_BASE_URL and GENESYS_API_BASE_URL. */
  url: string;
  port: number;
  close(): Promise<void>;
  /** A deep copy of the current state. */
  state(): GenesysSandboxV2State;
  /** Same as `POST /__sandbox/reset`. */
  reset(): void;
  /** Resolves once every event produced so far has been handed to the publish hook(s). */
  flushEvents(): Promise<void>;
  /** The Genesys operations this sandbox serves (method, path with `:param`s, SDK function name); nothing else. */
  operations: Array<{ method: string; path: string; operation: string }>;
  faults: FaultEngine;
  clock: SandboxClock;
}

function positiveIntegerOrNull(body: Record<string, unknown>, key: string): number | null | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (value !== null && (typeof value !== 'number' || !Number.isInteger(value) || value < 1)) {
    throw new HttpError(400, `${key} must be a positive integer or null`);
  }
  return value as number | null;
}

/** Starts the sandbox Genesys (version 2) on 127.0.0.1. */
export async function startGenesysSandboxV2(options: GenesysSandboxV2Options): Promise<GenesysSandboxV2> {
  const clock = createClock(options.clock);
  const faults = new FaultEngine();
  const initial = {
    clients: options.clients.map((client) => ({ ...client })),
    settings: {
      tokenTtlSeconds: options.tokenTtlSeconds ?? 3600,
      auditPendingPolls: options.auditPendingPolls ?? 0,
      tokenRateLimitPerMinute: options.tokenRateLimitPerMinute ?? null,
    } satisfies GenesysSettings,
    rateLimitPerSecond: options.rateLimitPerSecond ?? null,
  };
  let clients = initial.clients.map((client) => ({ ...client }));
  const settings: GenesysSettings = { ...initial.settings };
  const limiter = new FixedWindowRateLimiter(clock, initial.rateLimitPerSecond);
  const source: EventSourceOptions = {
    organizationId: options.eventSource?.organizationId ?? SANDBOX_ORG_ID,
    eventSourceSuffix: options.eventSource?.eventSourceSuffix ?? 'guest-sync-local',
    account: options.eventSource?.account ?? '000000000000',
    region: options.eventSource?.region ?? 'us-east-1',
  };
  const hooks: PublishHook[] = [];
  if (options.publish) hooks.push(options.publish);
  if (options.putEvents) hooks.push(putEventsPublisher(options.putEvents.url, options.putEvents.eventBusName));
  let world = new GenesysWorld();
  let publishing: Promise<void> = Promise.resolve();

  const nowIso = (): string => new Date(clock.now()).toISOString();

  const ctx: GenesysContext = {
    clock,
    settings,
    world: () => world,
    nowIso,
    clientOf: (req) => {
      const token = bearerToken(ctx, req);
      return token ? world.tokens.get(token)?.clientId : undefined;
    },
    audit: (entry) => {
      world.audits.push({
        id: randomUUID(),
        userHomeOrgId: SANDBOX_ORG_ID,
        remoteIp: ['127.0.0.1'],
        level: 'USER',
        status: 'SUCCESS',
        eventDate: nowIso(),
        context: {},
        ...structuredClone(entry),
      });
    },
    emit: (topic, conversation, eventBody) => {
      const event = buildEnvelope(source, topic, conversation.id, eventBody, clock.now());
      const target = world;
      target.events.push(event);
      for (const hook of hooks) {
        // Events leave in the order they happened: each waits for the one before it.
        publishing = publishing.then(async () => {
          try {
            await hook(structuredClone(event));
          } catch (error) {
            target.publishFailures.push({ eventId: event.id, message: error instanceof Error ? error.message : String(error) });
          }
        });
      }
    },
    notePii: (operation, id, value) => collectPii(world, operation, id, value),
  };

  const applySeed = (): void => {
    for (const { id, body } of options.seed?.externalSources ?? []) createExternalSource(ctx, structuredClone(body), id);
    for (const { id, body } of options.seed?.contactSchemas ?? []) createContactSchema(ctx, structuredClone(body), id);
  };
  applySeed();

  const reset = (): void => {
    world = new GenesysWorld();
    applySeed();
    faults.clear();
    clock.reset();
    clients = initial.clients.map((client) => ({ ...client }));
    Object.assign(settings, initial.settings);
    limiter.setLimit(initial.rateLimitPerSecond);
  };

  const routes: RouteDef[] = [
    ...tokenRoutes(ctx, () => clients),
    ...conversationRoutes(ctx),
    ...externalContactRoutes(ctx),
    ...analyticsRoutes(ctx),
    ...auditRoutes(ctx),
    ...webDeploymentRoutes(ctx),
    ...integrationRoutes(ctx),
  ];

  const state = (): GenesysSandboxV2State =>
    structuredClone({
      now: nowIso(),
      config: {
        clientIds: clients.map((client) => client.clientId),
        tokenTtlSeconds: settings.tokenTtlSeconds,
        rateLimitPerSecond: limiter.perSecond,
        tokenRateLimitPerMinute: settings.tokenRateLimitPerMinute,
        auditPendingPolls: settings.auditPendingPolls,
        eventSource: partnerEventSource(source),
      },
      conversations: Object.fromEntries(world.conversations),
      externalContacts: Object.fromEntries(world.contacts),
      externalSources: [...world.externalSources.values()],
      contactSchemas: [...world.schemas.values()],
      integrations: [...world.integrations.values()],
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
      events: world.events,
      publishFailures: world.publishFailures,
      tokensIssued: world.tokensIssued,
      activeTokens: [...world.tokens.values()].filter((token) => token.expiresAt > clock.now()).length,
      piiFindings: world.piiFindings,
      faults: faults.list(),
      requests: world.log,
    });

  const requireBody = (value: unknown): Record<string, unknown> => {
    if (!isPlainObject(value)) throw new HttpError(400, 'The body must be a JSON object');
    return value;
  };

  const controlRoutes: RouteDef[] = [
    ...messengerRoutes(ctx),
    controlRoute('POST', '/__sandbox/config', (req) => {
      const body = requireBody(req.json());
      applyRateLimitSetting(body, limiter);
      const perToken = positiveIntegerOrNull(body, 'tokenRateLimitPerMinute');
      if (perToken !== undefined) settings.tokenRateLimitPerMinute = perToken;
      const ttl = positiveIntegerOrNull(body, 'tokenTtlSeconds');
      if (ttl === null) throw new HttpError(400, 'tokenTtlSeconds must be a positive integer');
      if (ttl !== undefined) settings.tokenTtlSeconds = ttl;
      if (body.auditPendingPolls !== undefined) {
        const polls = body.auditPendingPolls;
        if (typeof polls !== 'number' || !Number.isInteger(polls) || polls < 0) {
          throw new HttpError(400, 'auditPendingPolls must be a non-negative integer');
        }
        settings.auditPendingPolls = polls;
      }
      return { status: 200, body: state().config };
    }),
    controlRoute('PUT', '/__sandbox/clients', (req) => {
      const body = requireBody(req.json());
      const list = body.clients;
      const valid =
        Array.isArray(list) &&
        list.every(
          (client) =>
            isPlainObject(client) &&
            typeof client.clientId === 'string' &&
            client.clientId !== '' &&
            typeof client.clientSecret === 'string' &&
            client.clientSecret !== '',
        );
      if (!valid) throw new HttpError(400, 'clients must be an array of {clientId, clientSecret}');
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
    controlRoute('GET', '/__sandbox/events', () => ({
      status: 200,
      body: { events: structuredClone(world.events), publishFailures: structuredClone(world.publishFailures) },
    })),
    controlRoute('DELETE', '/__sandbox/events', () => {
      world.events = [];
      world.publishFailures = [];
      return { status: 204 };
    }),
    controlRoute('POST', '/__sandbox/externalcontacts/contacts/:contactId/touch', (req) => {
      const changes = requireBody(optionalJson(req) ?? {});
      try {
        return { status: 200, body: touchContact(ctx, req.params.contactId, changes) };
      } catch {
        throw new HttpError(404, `External contact ${req.params.contactId ?? ''} not found`);
      }
    }),
    controlRoute('POST', '/__sandbox/audits', (req) => {
      const body = requireBody(req.json());
      if (!Array.isArray(body.entries)) throw new HttpError(400, 'entries must be an array');
      const added = body.entries.map((raw, index) => {
        const entry = requireBody(raw);
        const serviceName = auditServiceName(entry.serviceName);
        if (!serviceName) throw new HttpError(400, `entries[${index}].serviceName must be one of ${AUDIT_SERVICE_NAMES.join(', ')}`);
        const entity = requireBody(entry.entity ?? {});
        if (typeof entity.id !== 'string' || typeof entry.entityType !== 'string' || typeof entry.action !== 'string') {
          throw new HttpError(400, `entries[${index}] needs entity.id, entityType and action strings`);
        }
        const stored: StoredAuditEntry = {
          id: randomUUID(),
          userHomeOrgId: SANDBOX_ORG_ID,
          remoteIp: ['127.0.0.1'],
          serviceName,
          level: 'USER',
          status: 'SUCCESS',
          eventDate: typeof entry.eventDate === 'string' ? entry.eventDate : nowIso(),
          action: entry.action,
          entity: { id: entity.id },
          entityType: entry.entityType,
          propertyChanges: Array.isArray(entry.propertyChanges) ? structuredClone(entry.propertyChanges) : [],
          context: {},
        };
        world.audits.push(stored);
        return stored;
      });
      return { status: 201, body: { entries: added } };
    }),
    controlRoute('POST', '/__sandbox/deployments/:deploymentId', (req) => {
      const id = req.params.deploymentId ?? '';
      const body = requireBody(req.json());
      if (body.status !== undefined && !(DEPLOYMENT_STATUSES as readonly unknown[]).includes(body.status)) {
        throw new HttpError(400, `status must be one of ${DEPLOYMENT_STATUSES.join(', ')}`);
      }
      const { id: _id, ...fields } = body;
      world.deployments.set(id, { ...fields });
      return { status: 200, body: deploymentView(ctx, id) };
    }),
    controlRoute('DELETE', '/__sandbox/deployments/:deploymentId', (req) => {
      world.deployments.set(req.params.deploymentId ?? '', { deleted: true });
      return { status: 204 };
    }),
  ];

  const server = await startSandboxServer(options, { clock, faults, state, reset }, {
    routes,
    controlRoutes,
    // A served path asked with another method is still an endpoint the sandbox does not
    // serve: 404 like any other path (section 4 and nothing else), not the pipeline's 405.
    errorReply: (status, message, req) =>
      status === 405 ? genesysError(404, message.replace(/^Method (\S+) not allowed on /, 'No route for $1 '), req) : genesysError(status, message, req),
    commonHeaders: (req) => ({ 'inin-correlation-id': req.correlationId }),
    guard: (req) => {
      if (req.operation === 'loginClientCredentialsGrant') return undefined;
      if (!limiter.tryAcquire()) {
        return genesysError(429, 'Rate limit exceeded the maximum. Retry the request in [1] seconds', req, { retryAfterSeconds: 1 });
      }
      const hasHeader = /^Bearer\s+\S+$/i.test(req.header('authorization') ?? '');
      const token = bearerToken(ctx, req);
      if (!token) {
        return hasHeader
          ? genesysError(401, 'Invalid login credentials.', req, { code: 'bad.credentials' })
          : genesysError(401, 'No authentication bearer token specified in authorization header.', req, { code: 'authentication.required' });
      }
      const waitSeconds = spendTokenBudget(ctx, token);
      if (waitSeconds !== undefined) {
        return genesysError(429, `Rate limit exceeded the maximum. Retry the request in [${waitSeconds}] seconds`, req, {
          retryAfterSeconds: waitSeconds,
        });
      }
      return undefined;
    },
    onLog: (entry) => {
      world.log.push(entry);
      if (world.log.length > MAX_LOG) world.log.splice(0, world.log.length - MAX_LOG);
    },
  });

  return {
    url: server.url,
    port: server.port,
    close: async () => {
      await publishing;
      await server.close();
    },
    state,
    reset,
    flushEvents: async () => {
      let seen: Promise<void>;
      do {
        seen = publishing;
        await seen;
      } while (seen !== publishing);
    },
    operations: routes.map(({ method, path, operation }) => ({ method, path, operation })),
    faults,
    clock,
  };
}
