/**
 * A Dynamics 365 (Dataverse Web API) stand-in that behaves as Microsoft documents:
 * - "UpsertMultiple Action": `POST /api/data/v9.2/contacts/Microsoft.Dynamics.CRM.UpsertMultiple`
 *   `{Targets}`, each with `@odata.type` and an `@odata.id` naming the alternate key; it
 *   answers 204 with no per-record results and is all-or-nothing (one failing target fails
 *   the call, nothing is written);
 * - "Service protection API limits": per user, 6,000 requests per 5-minute sliding window;
 *   beyond it 429 with `Retry-After` and error code `0x80072322`;
 * - "Microsoft identity platform and the OAuth 2.0 client credentials flow":
 *   `POST /{tenantId}/oauth2/v2.0/token` with `scope={resource}/.default` answers
 *   `{token_type, expires_in, access_token}`; an expired token is a 401;
 * - a missing privilege is a 403 (`0x80040220`);
 * - `GET /api/data/v9.2/contacts?$filter=col eq '..' [or ..]&$select=..&$top=..`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { FaultEngine, type StoredFaultRule } from '../faults.ts';
import { HttpError, commonControlRoutes, controlRoute, startSandboxServer, type RequestLogEntry, type RouteDef, type SandboxReply } from '../server.ts';
import { createClock, isPlainObject, type SandboxClock } from '../util.ts';
import {
  formBody,
  logRequest,
  newWorld,
  positiveInteger,
  recordsView,
  samePhone,
  seedCustomer,
  storeControlRoutes,
  takeFailure,
  writeRecord,
  type ProviderFailureRule,
  type ProviderStoredRecord,
  type ProviderWorld,
} from './store.ts';

/** Options of the Dynamics sandbox. */
export interface DynamicsSandboxOptions {
  port?: number;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** The alternate key column (default `gs_externalid`). */
  alternateKey?: string;
  /** Column carrying `sourceUpdatedAt` (default `gs_sourceupdatedat`). */
  sourceColumn?: string;
  /** Requests per 5-minute sliding window (default 6,000). */
  requestsPerWindow?: number;
  /** Token lifetime (default 3,599 s). */
  tokenLifetimeSeconds?: number;
  /** The resource whose `/.default` scope tokens are for (default: the sandbox's own URL). */
  resourceUrl?: string;
  /** Contacts present from the start (Dataverse column names: emailaddress1, telephone1, ...). */
  customers?: Array<Record<string, unknown>>;
  clock?: () => number;
}

/** What `GET /__sandbox/state` shows. */
export interface DynamicsSandboxState {
  now: string;
  config: { requestsPerWindow: number; requestsInWindow: number; privileges: { read: boolean; write: boolean } };
  records: Record<string, ProviderStoredRecord>;
  tokensIssued: number;
  requestsByStatus: Record<string, number>;
  recordFailureRules: ProviderFailureRule[];
  faults: StoredFaultRule[];
  requests: RequestLogEntry[];
}

/** A running Dynamics sandbox. */
export interface DynamicsSandbox {
  url: string;
  port: number;
  close(): Promise<void>;
  state(): DynamicsSandboxState;
  reset(): void;
  rotateClientSecret(clientSecret: string): void;
  expireTokens(): void;
  setPrivileges(privileges: Partial<{ read: boolean; write: boolean }>): void;
  faults: FaultEngine;
  clock: SandboxClock;
}

const WINDOW_MS = 300_000;
const dvError = (status: number, code: string, message: string, headers: Record<string, string> = {}): SandboxReply => ({ status, body: { error: { code, message } }, headers });

/** Parses `col eq 'v' [or col eq 'v']...` (OData quotes doubled); undefined when it is anything else. */
export function parseODataFilter(filter: string): Array<{ column: string; value: string }> | undefined {
  const terms: Array<{ column: string; value: string }> = [];
  const pattern = /^\s*([a-z_][a-z0-9_]*)\s+eq\s+'((?:[^']|'')*)'\s*/i;
  let rest = filter;
  for (;;) {
    const match = pattern.exec(rest);
    if (!match) return undefined;
    terms.push({ column: (match[1] as string).toLowerCase(), value: (match[2] as string).replace(/''/g, "'") });
    rest = rest.slice(match[0].length);
    if (rest.trim() === '') return terms;
    const or = /^or\s+/i.exec(rest);
    if (!or) return undefined;
    rest = rest.slice(or[0].length);
  }
}

/** Starts the Dynamics sandbox on 127.0.0.1. */
export async function startDynamicsSandbox(options: DynamicsSandboxOptions): Promise<DynamicsSandbox> {
  const clock = createClock(options.clock);
  const faults = new FaultEngine();
  const alternateKey = options.alternateKey ?? 'gs_externalid';
  const sourceColumn = options.sourceColumn ?? 'gs_sourceupdatedat';
  let world: ProviderWorld = newWorld();
  let clientSecret = options.clientSecret;
  let requestsPerWindow = options.requestsPerWindow ?? 6_000;
  let privileges = { read: true, write: true };
  let tokens = new Map<string, number>();
  let window: number[] = [];
  let tokensIssued = 0;
  let url = '';
  const newId = (): string => randomUUID();

  const liveWindow = (): number[] => {
    const since = clock.now() - WINDOW_MS;
    window = window.filter((at) => at > since);
    return window;
  };
  const seed = (fields: Record<string, unknown>): ProviderStoredRecord => seedCustomer(world, newId(), fields, clock.now());
  const seedAll = (): void => {
    for (const customer of options.customers ?? []) seed(customer);
  };
  seedAll();

  const reset = (): void => {
    world = newWorld();
    faults.clear();
    clock.reset();
    clientSecret = options.clientSecret;
    requestsPerWindow = options.requestsPerWindow ?? 6_000;
    privileges = { read: true, write: true };
    tokens = new Map();
    window = [];
    tokensIssued = 0;
    seedAll();
  };

  const missingPrivilege = (kind: 'read' | 'write'): SandboxReply | undefined =>
    privileges[kind]
      ? undefined
      : dvError(403, '0x80040220', `Principal user (Id=${randomUUID()}, type=8) is missing prv${kind === 'read' ? 'Read' : 'Write'}Contact privilege`);

  const upsertMultiple = (body: unknown): SandboxReply => {
    if (!isPlainObject(body) || !Array.isArray(body.Targets)) return dvError(400, '0x80040203', 'Targets is required');
    const targets = body.Targets.map((raw) => (isPlainObject(raw) ? raw : {}));
    const keys: string[] = [];
    for (const [index, target] of targets.entries()) {
      if (target['@odata.type'] !== 'Microsoft.Dynamics.CRM.contact') {
        return dvError(400, '0x80048d19', `Error identified in Payload provided by the user for Entity :'contacts'. Targets[${index}] must have @odata.type Microsoft.Dynamics.CRM.contact`);
      }
      const id = typeof target['@odata.id'] === 'string' ? target['@odata.id'] : '';
      const match = /^contacts\(([a-z_][a-z0-9_]*)='((?:[^']|'')*)'\)$/.exec(id);
      if (!match || match[1] !== alternateKey) return dvError(400, '0x80060892', `Targets[${index}]: '${id}' does not name the alternate key ${alternateKey}`);
      keys.push((match[2] as string).replace(/''/g, "'"));
      for (const column of Object.keys(target)) {
        if (!column.startsWith('@') && !/^[a-z][a-z0-9_]*$/.test(column)) return dvError(400, '0x80060888', `Could not find a property named '${column}' on type 'Microsoft.Dynamics.CRM.contact'.`);
      }
    }
    if (new Set(keys).size !== keys.length) return dvError(400, '0x80040237', 'Duplicate key values found in Targets.');
    // All or nothing: check every target before writing any.
    for (const key of keys) {
      const rule = takeFailure(world, key);
      if (rule) return dvError(400, rule.code, rule.message ?? `Injected failure ${rule.code}`);
    }
    targets.forEach((target, index) => {
      const fields = Object.fromEntries(Object.entries(target).filter(([column]) => !column.startsWith('@')));
      writeRecord(world, keys[index] as string, { ...fields, [alternateKey]: keys[index] }, { now: clock.now(), newId, sourceField: sourceColumn });
    });
    return { status: 204 };
  };

  const queryContacts = (query: URLSearchParams): SandboxReply => {
    const terms = parseODataFilter(query.get('$filter') ?? '');
    if (!terms) return dvError(400, '0x80060888', 'Syntax error in $filter');
    const select = (query.get('$select') ?? 'contactid').split(',').map((s) => s.trim());
    const rows = [...world.records.values()].filter((record) =>
      terms.some(({ column, value }) =>
        column === 'telephone1' || column === 'mobilephone'
          ? samePhone(record.fields[column], value)
          : typeof record.fields[column] === 'string' && (record.fields[column] as string).toLowerCase() === value.toLowerCase(),
      ),
    );
    const top = Number(query.get('$top') ?? rows.length);
    return {
      status: 200,
      body: {
        '@odata.context': `${url}/api/data/v9.2/$metadata#contacts(${select.join(',')})`,
        value: rows.slice(0, top).map((record) => Object.fromEntries(select.map((name) => [name, name === 'contactid' ? record.id : (record.fields[name] ?? null)]))),
      },
    };
  };

  const routes: RouteDef[] = [
    {
      method: 'POST',
      path: '/:tenant/oauth2/v2.0/token',
      operation: 'token',
      handler: (req) => {
        const form = formBody(req.rawBody);
        if (req.params['tenant'] !== options.tenantId) return { status: 400, body: { error: 'invalid_request', error_description: "AADSTS90002: Tenant not found." } };
        if (form.get('grant_type') !== 'client_credentials') return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'AADSTS70003: The app requested an unsupported grant type.' } };
        if (form.get('client_id') !== options.clientId || form.get('client_secret') !== clientSecret) {
          return { status: 401, body: { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' } };
        }
        const resource = (options.resourceUrl ?? url).replace(/\/+$/, '');
        if (form.get('scope') !== `${resource}/.default`) return { status: 400, body: { error: 'invalid_scope', error_description: 'AADSTS70011: The provided value for the input parameter scope is not valid.' } };
        const lifetime = options.tokenLifetimeSeconds ?? 3_599;
        const token = `eyJ0eXAi.${randomBytes(24).toString('base64url')}`;
        tokens.set(token, clock.now() + lifetime * 1000);
        tokensIssued += 1;
        return { status: 200, body: { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: token } };
      },
    },
    {
      method: 'POST',
      path: '/api/data/v9.2/contacts/Microsoft.Dynamics.CRM.UpsertMultiple',
      operation: 'upsertMultiple',
      handler: (req) => missingPrivilege('write') ?? upsertMultiple(req.json()),
    },
    { method: 'GET', path: '/api/data/v9.2/contacts', operation: 'queryContacts', handler: (req) => missingPrivilege('read') ?? queryContacts(req.query) },
  ];

  const state = (): DynamicsSandboxState =>
    structuredClone({
      now: new Date(clock.now()).toISOString(),
      config: { requestsPerWindow, requestsInWindow: liveWindow().length, privileges },
      records: recordsView(world),
      tokensIssued,
      requestsByStatus: world.requestsByStatus,
      recordFailureRules: world.failureRules,
      faults: faults.list(),
      requests: world.log,
    });

  const rotateClientSecret = (next: string): void => {
    clientSecret = next;
  };
  const expireTokens = (): void => {
    for (const token of tokens.keys()) tokens.set(token, 0);
  };
  const setPrivileges = (next: Partial<{ read: boolean; write: boolean }>): void => {
    privileges = { ...privileges, ...next };
  };

  const controlRoutes: RouteDef[] = [
    ...commonControlRoutes({ state, reset, faults, clock }),
    ...storeControlRoutes(() => world, seed),
    controlRoute('POST', '/__sandbox/config', (req) => {
      const body = req.json();
      if (!isPlainObject(body)) throw new HttpError(400, 'The body must be a JSON object');
      requestsPerWindow = positiveInteger(body, 'requestsPerWindow') ?? requestsPerWindow;
      if (body.privileges !== undefined) {
        if (!isPlainObject(body.privileges)) throw new HttpError(400, 'privileges must be an object');
        setPrivileges({
          ...(typeof body.privileges.read === 'boolean' ? { read: body.privileges.read } : {}),
          ...(typeof body.privileges.write === 'boolean' ? { write: body.privileges.write } : {}),
        });
      }
      return { status: 200, body: state().config };
    }),
    controlRoute('PUT', '/__sandbox/credentials', (req) => {
      const body = req.json();
      if (!isPlainObject(body) || typeof body.clientSecret !== 'string' || body.clientSecret === '') throw new HttpError(400, 'clientSecret must be a non-empty string');
      rotateClientSecret(body.clientSecret);
      return { status: 204 };
    }),
    controlRoute('POST', '/__sandbox/tokens/expire', () => {
      expireTokens();
      return { status: 204 };
    }),
  ];

  const server = await startSandboxServer({
    port: options.port,
    clock,
    faults,
    routes,
    controlRoutes,
    errorReply: (status, message) => dvError(status, status === 400 ? '0x80040203' : '0x80040216', message),
    guard: (req): SandboxReply | undefined => {
      if (req.operation === 'token') return undefined;
      const bearer = /^Bearer\s+(\S+)$/i.exec(req.header('authorization') ?? '')?.[1];
      const expiresAt = bearer === undefined ? undefined : tokens.get(bearer);
      if (expiresAt === undefined || expiresAt <= clock.now()) {
        return { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token", error_description="The access token has expired or is not yet valid."' } };
      }
      const live = liveWindow();
      if (live.length >= requestsPerWindow) {
        const retryAfter = Math.max(1, Math.ceil(((live[0] as number) + WINDOW_MS - clock.now()) / 1000));
        return dvError(429, '0x80072322', `Number of requests exceeded the limit of ${requestsPerWindow} over time window of 300 seconds.`, { 'retry-after': String(retryAfter) });
      }
      window.push(clock.now());
      return undefined;
    },
    onLog: (entry) => logRequest(world, entry),
  });
  url = server.url;

  return { url: server.url, port: server.port, close: server.close, state, reset, rotateClientSecret, expireTokens, setPrivileges, faults, clock };
}
