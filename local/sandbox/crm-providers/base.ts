/**
 * The scaffolding every provider sandbox stands on, written once: the clock, the fault
 * engine and the record store with its seeded customers; the state view, reset and control
 * routes they all offer; the request log; and, for the providers that issue tokens
 * (Salesforce, Dynamics), the client-credentials grant. Each sandbox keeps only what its
 * provider documents: its routes, limits, error bodies and its own settings.
 */
import { FaultEngine, type StoredFaultRule } from '../faults.ts';
import { logRequest } from '../crm-world.ts';
import {
  HttpError,
  controlRoute,
  startSandboxServer,
  type RequestLogEntry,
  type RouteDef,
  type RunningServer,
  type SandboxReply,
  type SandboxRequest,
  type SandboxServerOptions,
} from '../server.ts';
import { createClock, isPlainObject, type SandboxClock } from '../util.ts';
import {
  formBody,
  newWorld,
  recordsView,
  seedCustomer,
  storeControlRoutes,
  takeFailure,
  writeRecord,
  type ProviderFailureRule,
  type ProviderStoredRecord,
  type ProviderWorld,
} from './store.ts';

/** Options every provider sandbox takes. */
export interface ProviderSandboxBaseOptions {
  port?: number;
  /** Records present from the start, in the provider's own field names. */
  customers?: Array<Record<string, unknown>>;
  clock?: () => number;
}

/** What `GET /__sandbox/state` shows of every provider sandbox; `config` is the provider's own. */
export interface ProviderSandboxState<Config> {
  now: string;
  config: Config;
  records: Record<string, ProviderStoredRecord>;
  requestsByStatus: Record<string, number>;
  recordFailureRules: ProviderFailureRule[];
  faults: StoredFaultRule[];
  requests: RequestLogEntry[];
}

/** What every running provider sandbox offers; `State` is what its state view shows. */
export interface ProviderSandboxHandle<State> {
  url: string;
  port: number;
  close(): Promise<void>;
  state(): State;
  reset(): void;
  faults: FaultEngine;
  clock: SandboxClock;
}

/** The server options a provider decides; the controls, the fault engine and the log come from the core. */
export type ProviderServerOptions = Pick<SandboxServerOptions, 'routes' | 'errorReply' | 'commonHeaders' | 'guard'> & {
  /** The provider's own control routes (its settings, its credentials). */
  controlRoutes: RouteDef[];
};

/** The clock, faults and record store of one provider sandbox, with what is built on them. */
export class ProviderSandboxCore {
  readonly clock: SandboxClock;
  readonly faults = new FaultEngine();
  #world: ProviderWorld = newWorld();
  readonly #options: ProviderSandboxBaseOptions;
  readonly #newId: () => string;

  /** `newId` mints the provider's own record ids. */
  constructor(options: ProviderSandboxBaseOptions, newId: () => string) {
    this.#options = options;
    this.#newId = newId;
    this.clock = createClock(options.clock);
    this.#seedAll();
  }

  /** The records, failure rules and request log as they are now. */
  get world(): ProviderWorld {
    return this.#world;
  }

  /** Adds a customer (searchable at once), as `POST /__sandbox/customers` does. */
  readonly seed = (fields: Record<string, unknown>): ProviderStoredRecord => seedCustomer(this.#world, this.#newId(), fields, this.clock.now());

  /** Merges a write into the record of `externalId` (see `writeRecord`). */
  write(externalId: string, fields: Record<string, unknown>, sourceField: string, searchLagMs?: number): { record: ProviderStoredRecord; created: boolean } {
    return writeRecord(this.#world, externalId, fields, { now: this.clock.now(), newId: this.#newId, sourceField, ...(searchLagMs === undefined ? {} : { searchLagMs }) });
  }

  /** The failure rule that applies to `externalId`, if any (see `takeFailure`). */
  takeFailure(externalId: string, consume = true): ProviderFailureRule | undefined {
    return takeFailure(this.#world, externalId, consume);
  }

  /** Every stored record (seeded customers included). */
  records(): ProviderStoredRecord[] {
    return [...this.#world.records.values()];
  }

  /** Back to the start: no records but the seeded customers, no rules, no faults, the clock's own time. */
  reset(): void {
    this.#world = newWorld();
    this.faults.clear();
    this.clock.reset();
    this.#seedAll();
  }

  /** The state view around the provider's `config` (a deep copy). */
  state<Config>(config: Config): ProviderSandboxState<Config> {
    return structuredClone({
      now: new Date(this.clock.now()).toISOString(),
      config,
      records: recordsView(this.#world),
      requestsByStatus: this.#world.requestsByStatus,
      recordFailureRules: this.#world.failureRules,
      faults: this.faults.list(),
      requests: this.#world.log,
    });
  }

  /** Starts the server on 127.0.0.1 with the shared controls, the provider's routes and the request log. */
  async start(port: number | undefined, state: () => unknown, reset: () => void, server: ProviderServerOptions): Promise<RunningServer> {
    const { faults, clock } = this;
    return startSandboxServer({ port }, { clock, faults, state, reset }, {
      ...server,
      controlRoutes: [...storeControlRoutes(() => this.#world, this.seed), ...server.controlRoutes],
      onLog: (entry) => logRequest(this.#world, entry),
    });
  }

  #seedAll(): void {
    for (const customer of this.#options.customers ?? []) this.seed(customer);
  }
}

/** The handle of a started provider sandbox, before the provider adds its own controls. */
export function sandboxHandle<State>(server: RunningServer, core: ProviderSandboxCore, state: () => State, reset: () => void): ProviderSandboxHandle<State> {
  return { url: server.url, port: server.port, close: server.close, state, reset, faults: core.faults, clock: core.clock };
}

/** The bearer token of a request, if it sends one. */
export function bearerOf(req: Pick<SandboxRequest, 'header'>): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(req.header('authorization') ?? '')?.[1];
}

/** `POST /__sandbox/config`: a JSON object handed to `apply`, answered with the config it leads to. */
export function configRoute(apply: (body: Record<string, unknown>) => void, config: () => unknown): RouteDef {
  return controlRoute('POST', '/__sandbox/config', (req) => {
    const body = req.json();
    if (!isPlainObject(body)) throw new HttpError(400, 'The body must be a JSON object');
    apply(body);
    return { status: 200, body: config() };
  });
}

/** How a token endpoint answers, in its provider's words (thunks: each answer is a fresh object). */
export interface TokenEndpointAnswers {
  /** Checked before anything else (Dynamics: the tenant in the path). */
  precheck?: (req: SandboxRequest) => SandboxReply | undefined;
  unsupportedGrant: () => SandboxReply;
  invalidClient: () => SandboxReply;
  /** Checked once the client is known (Dynamics: the scope). */
  postcheck?: (form: URLSearchParams) => SandboxReply | undefined;
  /** Mints a token (through `issue`) and answers it. */
  grant: () => SandboxReply;
}

/** The OAuth 2.0 client-credentials grant of a sandbox: the valid secret and the tokens issued, each with its expiry. */
export class ClientCredentialsGrant {
  #secret: string;
  #tokens = new Map<string, number>();
  #issued = 0;
  readonly #clientId: string;
  readonly #initialSecret: string;
  readonly #clock: SandboxClock;

  constructor(clientId: string, clientSecret: string, clock: SandboxClock) {
    this.#clientId = clientId;
    this.#initialSecret = clientSecret;
    this.#secret = clientSecret;
    this.#clock = clock;
  }

  /** Tokens issued since the start or the last reset. */
  get issued(): number {
    return this.#issued;
  }

  /** Records a token valid for `lifetimeMs` from now. */
  issue(token: string, lifetimeMs: number): void {
    this.#tokens.set(token, this.#clock.now() + lifetimeMs);
    this.#issued += 1;
  }

  /** True when the request's bearer token was issued here and has not expired. */
  admits(req: Pick<SandboxRequest, 'header'>): boolean {
    const bearer = bearerOf(req);
    const expiresAt = bearer === undefined ? undefined : this.#tokens.get(bearer);
    return expiresAt !== undefined && expiresAt > this.#clock.now();
  }

  /** Rotates the client secret; the old one is refused from now on. */
  rotate(clientSecret: string): void {
    this.#secret = clientSecret;
  }

  /** Every token issued so far expires now. */
  expireAll(): void {
    for (const token of this.#tokens.keys()) this.#tokens.set(token, 0);
  }

  /** The starting secret, no tokens. */
  reset(): void {
    this.#secret = this.#initialSecret;
    this.#tokens = new Map();
    this.#issued = 0;
  }

  /** The token endpoint at `path`: form body, grant type, client id and secret, then `answers.grant`. */
  tokenRoute(path: string, answers: TokenEndpointAnswers): RouteDef {
    return {
      method: 'POST',
      path,
      operation: 'token',
      handler: (req) => {
        const form = formBody(req.rawBody);
        const early = answers.precheck?.(req);
        if (early) return early;
        if (form.get('grant_type') !== 'client_credentials') return answers.unsupportedGrant();
        if (form.get('client_id') !== this.#clientId || form.get('client_secret') !== this.#secret) return answers.invalidClient();
        return answers.postcheck?.(form) ?? answers.grant();
      },
    };
  }

  /** `PUT /__sandbox/credentials` (rotate the secret) and `POST {expirePath}` (expire every token). */
  controlRoutes(expirePath: string): RouteDef[] {
    return [
      controlRoute('PUT', '/__sandbox/credentials', (req) => {
        const body = req.json();
        if (!isPlainObject(body) || typeof body.clientSecret !== 'string' || body.clientSecret === '') throw new HttpError(400, 'clientSecret must be a non-empty string');
        this.rotate(body.clientSecret);
        return { status: 204 };
      }),
      controlRoute('POST', expirePath, () => {
        this.expireAll();
        return { status: 204 };
      }),
    ];
  }
}
