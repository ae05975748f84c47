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
import { HttpError, type RouteDef, type SandboxReply } from '../server.ts';
import { isPlainObject } from '../util.ts';
import { ClientCredentialsGrant, ProviderSandboxCore, configRoute, sandboxHandle, type ProviderSandboxBaseOptions, type ProviderSandboxHandle, type ProviderSandboxState } from './base.ts';
import { positiveInteger, samePhone } from './store.ts';

/** Options of the Dynamics sandbox. */
export interface DynamicsSandboxOptions extends ProviderSandboxBaseOptions {
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
}

/** What `GET /__sandbox/state` shows. */
export interface DynamicsSandboxState extends ProviderSandboxState<{ requestsPerWindow: number; requestsInWindow: number; privileges: { read: boolean; write: boolean } }> {
  tokensIssued: number;
}

/** A running Dynamics sandbox. */
export interface DynamicsSandbox extends ProviderSandboxHandle<DynamicsSandboxState> {
  rotateClientSecret(clientSecret: string): void;
  expireTokens(): void;
  setPrivileges(privileges: Partial<{ read: boolean; write: boolean }>): void;
}

const WINDOW_MS = 300_000;
const dvError = (status: number, code: string, message: string, headers: Record<string, string> = {}): SandboxReply => ({ status, body: { error: { code, message } }, headers });
const aadError = (status: number, error: string, description: string): SandboxReply => ({ status, body: { error, error_description: description } });

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
  const core = new ProviderSandboxCore(options, () => randomUUID());
  const { clock } = core;
  const credentials = new ClientCredentialsGrant(options.clientId, options.clientSecret, clock);
  const alternateKey = options.alternateKey ?? 'gs_externalid';
  const sourceColumn = options.sourceColumn ?? 'gs_sourceupdatedat';
  let requestsPerWindow = options.requestsPerWindow ?? 6_000;
  let privileges = { read: true, write: true };
  let window: number[] = [];
  let url = '';

  const liveWindow = (): number[] => {
    const since = clock.now() - WINDOW_MS;
    window = window.filter((at) => at > since);
    return window;
  };

  const reset = (): void => {
    core.reset();
    credentials.reset();
    requestsPerWindow = options.requestsPerWindow ?? 6_000;
    privileges = { read: true, write: true };
    window = [];
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
      const rule = core.takeFailure(key);
      if (rule) return dvError(400, rule.code, rule.message ?? `Injected failure ${rule.code}`);
    }
    targets.forEach((target, index) => {
      const fields = Object.fromEntries(Object.entries(target).filter(([column]) => !column.startsWith('@')));
      core.write(keys[index] as string, { ...fields, [alternateKey]: keys[index] }, sourceColumn);
    });
    return { status: 204 };
  };

  const queryContacts = (query: URLSearchParams): SandboxReply => {
    const terms = parseODataFilter(query.get('$filter') ?? '');
    if (!terms) return dvError(400, '0x80060888', 'Syntax error in $filter');
    const select = (query.get('$select') ?? 'contactid').split(',').map((s) => s.trim());
    const rows = core.records().filter((record) =>
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
    credentials.tokenRoute('/:tenant/oauth2/v2.0/token', {
      precheck: (req) => (req.params['tenant'] === options.tenantId ? undefined : aadError(400, 'invalid_request', 'AADSTS90002: Tenant not found.')),
      unsupportedGrant: () => aadError(400, 'unsupported_grant_type', 'AADSTS70003: The app requested an unsupported grant type.'),
      invalidClient: () => aadError(401, 'invalid_client', 'AADSTS7000215: Invalid client secret provided.'),
      postcheck: (form) =>
        form.get('scope') === `${(options.resourceUrl ?? url).replace(/\/+$/, '')}/.default`
          ? undefined
          : aadError(400, 'invalid_scope', 'AADSTS70011: The provided value for the input parameter scope is not valid.'),
      grant: () => {
        const lifetime = options.tokenLifetimeSeconds ?? 3_599;
        const token = `eyJ0eXAi.${randomBytes(24).toString('base64url')}`;
        credentials.issue(token, lifetime * 1000);
        return { status: 200, body: { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: token } };
      },
    }),
    {
      method: 'POST',
      path: '/api/data/v9.2/contacts/Microsoft.Dynamics.CRM.UpsertMultiple',
      operation: 'upsertMultiple',
      handler: (req) => missingPrivilege('write') ?? upsertMultiple(req.json()),
    },
    { method: 'GET', path: '/api/data/v9.2/contacts', operation: 'queryContacts', handler: (req) => missingPrivilege('read') ?? queryContacts(req.query) },
  ];

  const state = (): DynamicsSandboxState => ({ ...core.state({ requestsPerWindow, requestsInWindow: liveWindow().length, privileges }), tokensIssued: credentials.issued });
  const setPrivileges = (next: Partial<{ read: boolean; write: boolean }>): void => {
    privileges = { ...privileges, ...next };
  };

  const server = await core.start(options.port, state, reset, {
    routes,
    controlRoutes: [
      configRoute((body) => {
        requestsPerWindow = positiveInteger(body, 'requestsPerWindow') ?? requestsPerWindow;
        if (body.privileges !== undefined) {
          if (!isPlainObject(body.privileges)) throw new HttpError(400, 'privileges must be an object');
          setPrivileges({
            ...(typeof body.privileges.read === 'boolean' ? { read: body.privileges.read } : {}),
            ...(typeof body.privileges.write === 'boolean' ? { write: body.privileges.write } : {}),
          });
        }
      }, () => state().config),
      ...credentials.controlRoutes('/__sandbox/tokens/expire'),
    ],
    errorReply: (status, message) => dvError(status, status === 400 ? '0x80040203' : '0x80040216', message),
    guard: (req): SandboxReply | undefined => {
      if (req.operation === 'token') return undefined;
      if (!credentials.admits(req)) {
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
  });
  url = server.url;

  return {
    ...sandboxHandle(server, core, state, reset),
    rotateClientSecret: (next) => credentials.rotate(next),
    expireTokens: () => credentials.expireAll(),
    setPrivileges,
  };
}
