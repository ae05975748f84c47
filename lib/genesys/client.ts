/**
 * The one Genesys Cloud client. Every operation of the catalogue goes through `call()`
 * (`client.call(genesysOperations.X, { params, body, query, deadline })`; there are no
 * per-operation methods, so the catalogue is the only list of endpoints), which applies docs/api.md section 4's rules once: bearer token per attempt, per-attempt
 * timeout bounded by the caller's deadline, retries for 429 / 5xx / network errors /
 * timeouts with `Retry-After` or full-jitter backoff, one token refresh on 401, and a
 * single typed `GenesysError` for every failure.
 */
import { exchange, ExchangeTimeoutError, parseRetryAfter, withDeadline } from '#lib/net';
import type { Deadline } from './deadline.ts';
import { GenesysError } from './errors.ts';
import type { GenesysFailure } from './errors.ts';
import { expandPath } from './operations.ts';
import type { AnyGenesysOperation, OperationBody, OperationParams, OperationQuery, OperationResponse, PathParamNames, QueryValue } from './operations.ts';

/**
 * Where bearer tokens come from. Structurally the same as `TokenProvider` of `#lib/auth`,
 * declared here so this folder builds on its own; any TokenProvider fits.
 */
export interface GenesysTokenSource {
  getToken(): Promise<string>;
  invalidate(): void;
}

/** How the client reaches Genesys and how hard it tries. */
export interface GenesysClientOptions {
  /** `https://api.{region}` or the sandbox override, without a trailing slash. */
  apiBaseUrl: string;
  tokens: GenesysTokenSource;
  fetch?: typeof fetch;
  /** Longest a single attempt may take (default 10 000 ms); less when the deadline is nearer. */
  timeoutMs?: number;
  /** Attempts per call for 429 / 5xx / network / timeout failures (default 3). */
  maxAttempts?: number;
  /** First backoff ceiling; doubles per retry (default 200 ms). */
  baseDelayMs?: number;
  /** Highest backoff ceiling (default 5 000 ms). */
  maxDelayMs?: number;
  /** Longest `Retry-After` the client waits out (default 30 000 ms); longer ones surface at once. */
  maxRetryAfterMs?: number;
  /** Source of jitter in [0, 1) (default Math.random). */
  random?: () => number;
  /** How waits between attempts are taken (default a timer). */
  sleep?: (ms: number) => Promise<void>;
  /** Clock for `Retry-After` HTTP dates (default Date.now). */
  now?: () => number;
}

/** Per-call extras every `call()` accepts besides the operation's params, body and query. */
export interface RequestOptions {
  /** The caller's time budget; usually `deadlineFromContext(context)`. */
  deadline?: Deadline;
  /** Extra request headers (e.g. `If-Match`); `Authorization` is always the client's. */
  headers?: Readonly<Record<string, string>>;
}

type ParamsOption<Op extends AnyGenesysOperation> = [PathParamNames<Op['path']>] extends [never]
  ? { params?: Record<string, never> }
  : { params: OperationParams<Op> };
type BodyOption<Op extends AnyGenesysOperation> = [OperationBody<Op>] extends [undefined]
  ? { body?: undefined }
  : { body: OperationBody<Op> };
type QueryOption<Op extends AnyGenesysOperation> = [OperationQuery<Op>] extends [undefined]
  ? { query?: undefined }
  : { query?: OperationQuery<Op> };

/** Options of `call()`: path parameters, body and query exactly as the operation needs them. */
export type CallOptions<Op extends AnyGenesysOperation> = RequestOptions &
  ParamsOption<Op> &
  BodyOption<Op> &
  QueryOption<Op>;

/** A successful answer: the parsed JSON body (undefined when empty) and the headers callers use. */
export interface GenesysResponse<T> {
  status: number;
  body: T;
  etag?: string;
  correlationId?: string;
}

interface LooseCallOptions extends RequestOptions {
  params?: Record<string, string>;
  query?: Record<string, QueryValue>;
  body?: unknown;
}

/** One attempt that did not succeed, with what the retry rules need to know about it. */
interface AttemptFailure {
  failure: Omit<GenesysFailure, 'operation' | 'attempts'>;
  /** The wait Genesys asked for (429 with `Retry-After`), in milliseconds. */
  retryAfterMs?: number;
  /** The request may have reached Genesys and been committed (timeout, dropped connection, 5xx). */
  outcomeUnknown?: boolean;
  cause?: unknown;
}

type AttemptResult = { ok: true; response: GenesysResponse<unknown> } | ({ ok: false } & AttemptFailure);

const CORRELATION_HEADER = 'ININ-Correlation-Id';

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The suite's single Genesys Cloud client: one instance per container (module scope),
 * shared by every handler and worker.
 */
export class GenesysClient {
  private readonly baseUrl: string;
  private readonly tokens: GenesysTokenSource;
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;

  constructor(options: GenesysClientOptions) {
    const base = new URL(options.apiBaseUrl); // throws early on a malformed base URL
    this.baseUrl = base.href.replace(/\/+$/, '');
    this.tokens = options.tokens;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.timeoutMs = positive(options.timeoutMs, 10_000, 'timeoutMs');
    this.maxAttempts = Math.floor(positive(options.maxAttempts, 3, 'maxAttempts'));
    this.baseDelayMs = nonNegative(options.baseDelayMs, 200, 'baseDelayMs');
    this.maxDelayMs = nonNegative(options.maxDelayMs, 5_000, 'maxDelayMs');
    this.maxRetryAfterMs = nonNegative(options.maxRetryAfterMs, 30_000, 'maxRetryAfterMs');
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? defaultSleep;
    this.now = options.now ?? Date.now;
  }

  /**
   * Sends one catalogue operation under the retry rules below and returns its parsed answer,
   * or throws one `GenesysError`.
   *
   * Rules (docs/api.md section 4):
   * - every attempt asks the token source for a token (it caches; a refresh shows up here);
   * - an attempt may take `min(timeoutMs, deadline.remainingMs())`; with no time left the
   *   call fails at once with a timeout (504), or with the last failure if there was one;
   * - 429, 5xx, network errors and timeouts are retried, at most `maxAttempts` attempts;
   *   the wait is `Retry-After` (seconds or HTTP date) for a 429 that sends it, otherwise
   *   full jitter: `random() * min(maxDelayMs, baseDelayMs * 2^n)` for the n-th retry (n from 0);
   * - a wait that would reach the deadline (or a `Retry-After` beyond `maxRetryAfterMs`) is
   *   not taken: the last failure surfaces at once;
   * - a 401 invalidates the token and is retried once, at once, with a fresh one. That retry
   *   does not use up one of the `maxAttempts` (the 401 was our stale token, not a Genesys
   *   fault), so a call sends at most `maxAttempts + 1` requests; a second 401 surfaces (502);
   * - every other status outside the operation's success list (400, 403, 404, 409, 412, 413,
   *   other 4xx, unexpected 2xx/3xx) surfaces at once;
   * - errors thrown by the token source itself propagate unchanged.
   *
   * The loop is hand-written. cockatiel's RetryPolicy (retry + handleWhen + a custom
   * IBackoff reading `Retry-After`) was the first choice, but it does not fit three of
   * these rules: it waits on a private `setTimeout`, so waits can be neither injected (tests
   * check the delays asked for, not wall-clock time) nor skipped; it commits to a retry
   * before asking the backoff for the delay, so it cannot refuse a wait that would pass the
   * Lambda deadline and surface the last error instead; and its jitter draws on
   * `Math.random`. The one-time 401 refresh also sits outside its attempt count.
   */
  async call<Op extends AnyGenesysOperation>(
    operation: Op,
    options: CallOptions<Op>,
  ): Promise<GenesysResponse<OperationResponse<Op>>> {
    const { params, query, body, headers, deadline } = options as LooseCallOptions;
    const url = this.baseUrl + expandPath(operation.path, params) + queryString(query);
    const payload = body === undefined ? undefined : JSON.stringify(body);

    let sent = 0;
    let refreshed = false;
    let last: GenesysError | undefined;
    for (;;) {
      const remaining = deadline ? deadline.remainingMs() : Number.POSITIVE_INFINITY;
      if (remaining <= 0) {
        throw last ?? new GenesysError({ operation: operation.name, kind: 'timeout', retryable: true, attempts: sent, notAttempted: true });
      }

      const token = await this.tokenWithin(deadline, operation.name, sent, last);
      const left = deadline ? deadline.remainingMs() : Number.POSITIVE_INFINITY;
      if (left <= 0) {
        throw last ?? new GenesysError({ operation: operation.name, kind: 'timeout', retryable: true, attempts: sent, notAttempted: true });
      }
      sent += 1;
      const result = await this.attempt(operation, url, {
        method: operation.method,
        headers: {
          ...headers,
          Accept: 'application/json',
          Authorization: `Bearer ${token}`,
          ...(payload === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: payload,
        timeoutMs: Math.min(this.timeoutMs, left),
      });
      if (result.ok) return result.response as GenesysResponse<OperationResponse<Op>>;

      last = new GenesysError({ ...result.failure, operation: operation.name, attempts: sent }, { cause: result.cause });

      if (result.failure.upstreamStatus === 401 && !refreshed) {
        refreshed = true;
        this.tokens.invalidate();
        continue;
      }

      const counted = sent - (refreshed ? 1 : 0);
      if (!result.failure.retryable || counted >= this.maxAttempts) throw last;
      // A create whose outcome is unknown is not sent again: Genesys may have committed it.
      if (!operation.repeatable && result.outcomeUnknown) throw last;

      const delayMs = result.retryAfterMs ?? this.jitteredDelay(counted - 1);
      if (result.retryAfterMs !== undefined && result.retryAfterMs > this.maxRetryAfterMs) throw last;
      if (deadline && delayMs >= deadline.remainingMs()) throw last;
      await this.sleep(delayMs);
    }
  }

  /**
   * The token, fetched within what the deadline leaves: a slow or unreachable login
   * service must not hold the call past its budget (the shared fetch goes on for the next
   * caller). Errors of the token source itself propagate unchanged.
   */
  private async tokenWithin(
    deadline: Deadline | undefined,
    operation: string,
    attempts: number,
    last: GenesysError | undefined,
  ): Promise<string> {
    const pending = this.tokens.getToken();
    if (!deadline) return pending;
    return withDeadline(deadline.remainingMs(), () => pending, {
      expired: () => last ?? new GenesysError({ operation, kind: 'timeout', retryable: true, attempts, notAttempted: true }),
    });
  }

  /** Full jitter: uniformly in [0, min(maxDelayMs, baseDelayMs * 2^retry)). */
  private jitteredDelay(retry: number): number {
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** retry);
    return Math.floor(this.random() * ceiling);
  }

  /** One request and its answer, read in full within the attempt's timeout. */
  private async attempt(
    operation: AnyGenesysOperation,
    url: string,
    request: { method: string; headers: Record<string, string>; body: string | undefined; timeoutMs: number },
  ): Promise<AttemptResult> {
    let status: number;
    let headers: Headers;
    let text: string;
    try {
      const answer = await exchange(
        this.fetch,
        url,
        { method: request.method, headers: request.headers, body: request.body },
        request.timeoutMs,
      );
      status = answer.response.status;
      headers = answer.response.headers;
      text = answer.text;
    } catch (cause) {
      const kind = cause instanceof ExchangeTimeoutError ? 'timeout' : 'network';
      return { ok: false, failure: { kind, retryable: true }, cause, outcomeUnknown: !neverConnected(cause) };
    }

    const correlationId = headers.get(CORRELATION_HEADER) ?? undefined;
    if (operation.success.includes(status)) {
      const parsed = parseJson(text);
      if (!parsed.ok) {
        return { ok: false, failure: { kind: 'http', upstreamStatus: status, retryable: false, correlationId } };
      }
      const etag = headers.get('ETag') ?? undefined;
      return { ok: true, response: { status, body: parsed.value, etag, correlationId } };
    }

    const retryAfterMs = status === 429 ? parseRetryAfter(headers.get('Retry-After'), this.now()) : undefined;
    return {
      ok: false,
      failure: {
        kind: 'http',
        upstreamStatus: status,
        retryable: status === 429 || status >= 500,
        correlationId,
        retryAfterSeconds: retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000),
        upstreamCode: errorCode(text),
      },
      retryAfterMs,
      outcomeUnknown: status >= 500,
    };
  }
}

/** True when the request never left this machine (refused or unresolvable), so it cannot have been committed. */
function neverConnected(cause: unknown): boolean {
  const code = (cause as { cause?: { code?: unknown } } | null)?.cause?.code;
  return code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN';
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number`);
  return value;
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a non-negative number`);
  return value;
}

function queryString(query: Record<string, QueryValue> | undefined): string {
  if (!query) return '';
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) search.append(name, String(value));
  }
  const encoded = search.toString();
  return encoded === '' ? '' : `?${encoded}`;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/** Genesys' machine-readable `code` from an error body; its `message` may echo input, so it is dropped. */
function errorCode(text: string): string | undefined {
  const parsed = parseJson(text);
  if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null) return undefined;
  const code = (parsed.value as Record<string, unknown>)['code'];
  return typeof code === 'string' && /^[A-Za-z0-9_.-]{1,100}$/.test(code) ? code : undefined;
}
