/**
 * The request pipeline both sandboxes run on: routing, strict body reading, fault
 * injection, a request log and safe answers. Hand-written on `node:http` because the
 * sandboxes must control sockets (delays, dropped connections) below any framework.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { FaultEngine, FaultRuleError, faultStatus, parseFaultRules, type StoredFaultRule } from './faults.ts';
import type { SandboxClock } from './util.ts';
import { listenOnLoopback } from '../ports.ts';

/** Every sandbox binds here and nowhere else. */
export const SANDBOX_HOST = '127.0.0.1';

/** Default cap on a request body. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** Thrown by handlers to answer an error in the server's own error shape. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** What a handler sees of a request. */
export interface SandboxRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  params: Record<string, string>;
  rawBody: Buffer;
  correlationId: string;
  operation: string;
  /** The body parsed as JSON; 400 when it is empty or malformed. */
  json(): unknown;
  /** A single header value, or undefined. */
  header(name: string): string | undefined;
}

/** What a handler answers. */
export interface SandboxReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  contentType?: string;
  /** Runs once the answer has been sent or the socket dropped (e.g. to end an in-flight marker). */
  afterSend?: () => void;
}

/** A route; `path` uses `:name` placeholders for one segment each. */
export interface RouteDef {
  method: string;
  path: string;
  operation: string;
  handler: (req: SandboxRequest) => SandboxReply | Promise<SandboxReply>;
}

/** One line of a sandbox's request log; never carries a body. */
export interface RequestLogEntry {
  at: string;
  operation: string;
  method: string;
  path: string;
  status: number;
  correlationId: string;
  durationMs: number;
  /** Id of the fault rule that affected the request. */
  faultId?: string;
  /** True when the socket was destroyed instead of answered (then status is 0). */
  dropped?: boolean;
  /** Server-specific extras without bodies (e.g. the CRM's idempotency key). */
  [extra: string]: unknown;
}

/** Where a sandbox listens and how large a body it reads: every sandbox's `port` and `maxBodyBytes` options. */
export interface SandboxListenOptions {
  port?: number;
  maxBodyBytes?: number;
}

/** What every sandbox has besides its routes: its clock and fault rules, and the state view and reset the shared controls serve. */
export interface SandboxControls {
  clock: SandboxClock;
  faults: FaultEngine;
  state: () => unknown;
  reset: () => void;
}

/** How one sandbox plugs into the pipeline. */
export interface SandboxServerOptions {
  /** Upstream routes: faults, `guard`, logging apply. */
  routes: RouteDef[];
  /** The sandbox's own `/__sandbox/...` routes, after the shared ones: no faults, no guard, not logged. */
  controlRoutes: RouteDef[];
  /** Builds the server's error document. */
  errorReply(status: number, message: string, req: { correlationId: string }): SandboxReply;
  /** Headers every answer carries. */
  commonHeaders?(req: { correlationId: string }): Record<string, string>;
  /** Runs before an upstream handler (rate limit, auth); an answer short-circuits. */
  guard?(req: SandboxRequest): SandboxReply | undefined;
  /** Extra log fields for a request (no bodies). */
  logExtras?(req: SandboxRequest): Record<string, unknown>;
  /** Receives each upstream request's log line. */
  onLog(entry: RequestLogEntry): void;
}

/** A started server. */
export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

interface CompiledRoute extends RouteDef {
  regex: RegExp;
  names: string[];
}

function compile(route: RouteDef): CompiledRoute {
  const names: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(segment.slice(1));
      return '([^/]+)';
    })
    .join('/');
  return { ...route, regex: new RegExp(`^${source}$`), names };
}

interface BodyResult {
  bytes: Buffer;
  size: number;
}

class BodyTooLargeError extends Error {}

/** Reads a body, discarding (but draining) anything past `limit`; gives up at 8x the limit. */
function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit * 8) {
        req.destroy();
        reject(new BodyTooLargeError());
        return;
      }
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve({ bytes: Buffer.concat(chunks), size }));
    req.on('error', reject);
  });
}

/** Starts a sandbox server on 127.0.0.1 (port 0 unless given), with the shared controls (`commonControlRoutes`) before its own. */
export async function startSandboxServer(listen: SandboxListenOptions, controls: SandboxControls, options: SandboxServerOptions): Promise<RunningServer> {
  const { clock, faults } = controls;
  const routes = options.routes.map(compile);
  const controlRoutes = [...commonControlRoutes(controls), ...options.controlRoutes].map(compile);
  const maxBodyBytes = listen.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const closing = new AbortController();
  const sockets = new Set<Socket>();

  const send = (res: ServerResponse, reply: SandboxReply, correlationId: string): void => {
    if (res.headersSent || res.destroyed) return;
    const headers: Record<string, string> = {
      ...options.commonHeaders?.({ correlationId }),
      ...reply.headers,
    };
    let payload = '';
    if (reply.body !== undefined && reply.status !== 204 && reply.status !== 304) {
      payload = JSON.stringify(reply.body);
      headers['content-type'] = reply.contentType ?? 'application/json; charset=utf-8';
    }
    headers['content-length'] = String(Buffer.byteLength(payload));
    res.writeHead(reply.status, headers);
    res.end(payload);
  };

  const find = (
    table: CompiledRoute[],
    method: string,
    path: string,
  ): { route?: CompiledRoute; params: Record<string, string>; allowed: string[] } => {
    const allowed: string[] = [];
    for (const route of table) {
      const match = route.regex.exec(path);
      if (!match) continue;
      if (route.method !== method) {
        allowed.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      route.names.forEach((name, index) => {
        params[name] = decodeURIComponent(match[index + 1] ?? '');
      });
      return { route, params, allowed };
    }
    return { params: {}, allowed };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const startedAt = Date.now();
    const correlationId = randomUUID();
    const method = (req.method ?? 'GET').toUpperCase();
    let url: URL;
    try {
      url = new URL(req.url ?? '/', `http://${SANDBOX_HOST}`);
    } catch {
      send(res, options.errorReply(400, 'Malformed request target', { correlationId }), correlationId);
      return;
    }
    const path = url.pathname;
    const isControl = path === '/__sandbox' || path.startsWith('/__sandbox/');
    let found: ReturnType<typeof find>;
    try {
      found = find(isControl ? controlRoutes : routes, method, path);
    } catch {
      send(res, options.errorReply(400, 'Malformed percent-encoding in path', { correlationId }), correlationId);
      return;
    }
    const operation = found.route?.operation ?? 'unknown';

    let body: BodyResult;
    try {
      body = await readBody(req, maxBodyBytes);
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) return;
      body = { bytes: Buffer.alloc(0), size: Number.POSITIVE_INFINITY };
    }

    const request: SandboxRequest = {
      method,
      path,
      query: url.searchParams,
      headers: req.headers,
      params: found.params,
      rawBody: body.bytes,
      correlationId,
      operation,
      json() {
        if (body.bytes.length === 0) throw new HttpError(400, 'A JSON request body is required');
        try {
          return JSON.parse(body.bytes.toString('utf8')) as unknown;
        } catch {
          throw new HttpError(400, 'The request body is not valid JSON');
        }
      },
      header(name) {
        const value = req.headers[name.toLowerCase()];
        return Array.isArray(value) ? value[0] : value;
      },
    };

    const run = async (route: CompiledRoute | undefined): Promise<SandboxReply> => {
      if (body.size > maxBodyBytes) {
        return options.errorReply(413, `Request body exceeds ${maxBodyBytes} bytes`, request);
      }
      if (!route) {
        if (found.allowed.length > 0) {
          const reply = options.errorReply(405, `Method ${method} not allowed on ${path}`, request);
          return { ...reply, headers: { ...reply.headers, allow: found.allowed.join(', ') } };
        }
        return options.errorReply(404, `No route for ${method} ${path}`, request);
      }
      try {
        return await route.handler(request);
      } catch (error) {
        if (error instanceof HttpError) {
          const reply = options.errorReply(error.status, error.message, request);
          return { ...reply, headers: { ...reply.headers, ...error.headers } };
        }
        if (error instanceof FaultRuleError) return options.errorReply(400, error.message, request);
        return options.errorReply(500, 'Sandbox internal error', request);
      }
    };

    if (isControl) {
      send(res, await run(found.route), correlationId);
      return;
    }

    const log = (status: number, fault: StoredFaultRule | undefined, dropped: boolean): void => {
      const entry: RequestLogEntry = {
        at: new Date(clock.now()).toISOString(),
        operation,
        method,
        path,
        status,
        correlationId,
        durationMs: Date.now() - startedAt,
        ...options.logExtras?.(request),
      };
      if (fault) entry.faultId = fault.id;
      if (dropped) entry.dropped = true;
      options.onLog(entry);
    };
    const drop = (fault: StoredFaultRule): void => {
      log(0, fault, true);
      res.destroy();
      req.socket.destroy();
    };
    const injected = (fault: StoredFaultRule, status: number): SandboxReply => {
      const base =
        fault.body !== undefined ? { status, body: fault.body } : options.errorReply(status, 'Injected fault', request);
      const headers = { ...base.headers };
      if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
      return { ...base, status, headers };
    };

    const fault = faults.take({ operation, method, path });
    const commitFirst = fault?.delayAfterCommitMs !== undefined;
    if (fault?.delayMs) await sleep(fault.delayMs, undefined, { signal: closing.signal });
    if (fault && !commitFirst) {
      if (fault.dropConnection) {
        drop(fault);
        return;
      }
      const status = faultStatus(fault);
      if (status !== undefined) {
        const reply = injected(fault, status);
        send(res, reply, correlationId);
        log(reply.status, fault, false);
        return;
      }
    }

    let reply: SandboxReply;
    const guarded = found.route && body.size <= maxBodyBytes ? options.guard?.(request) : undefined;
    reply = guarded ?? (await run(found.route));

    if (fault && commitFirst) {
      try {
        await sleep(fault.delayAfterCommitMs ?? 0, undefined, { signal: closing.signal });
      } catch (error) {
        reply.afterSend?.();
        throw error;
      }
      if (fault.dropConnection) {
        drop(fault);
        reply.afterSend?.();
        return;
      }
      const status = faultStatus(fault);
      if (status !== undefined) reply = { ...injected(fault, status), afterSend: reply.afterSend };
    }
    send(res, reply, correlationId);
    log(reply.status, fault, false);
    reply.afterSend?.();
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      // An aborted delay (server closing) or a vanished socket: nothing left to answer.
      if (!res.headersSent && !res.destroyed) res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  // A port already taken rejects with a PortInUseError naming it (the stack stops what it started).
  await listenOnLoopback(server, listen.port ?? 0, 'sandbox server');
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://${SANDBOX_HOST}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        closing.abort();
        server.close((error) => (error ? reject(error) : resolve()));
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** Parses a control body that may be empty; malformed JSON is a 400. */
export function optionalJson(req: SandboxRequest): unknown {
  return req.rawBody.length === 0 ? undefined : req.json();
}

/** A sandbox control route: never faulted, rate limited or logged. */
export function controlRoute(method: string, path: string, handler: RouteDef['handler']): RouteDef {
  return { method, path, operation: 'control', handler };
}

/** The controls both sandboxes share: the state view, reset, the fault rules and the clock. */
function commonControlRoutes(options: {
  state: () => unknown;
  reset: () => void;
  faults: FaultEngine;
  clock: Pick<SandboxClock, 'now' | 'advance'>;
}): RouteDef[] {
  const { faults, clock } = options;
  return [
    controlRoute('GET', '/__sandbox/state', () => ({ status: 200, body: options.state() })),
    controlRoute('POST', '/__sandbox/reset', () => {
      options.reset();
      return { status: 204 };
    }),
    controlRoute('GET', '/__sandbox/faults', () => ({ status: 200, body: { rules: faults.list() } })),
    controlRoute('POST', '/__sandbox/faults', (req) => ({ status: 201, body: { rules: faults.add(parseFaultRules(req.json())) } })),
    controlRoute('DELETE', '/__sandbox/faults', () => {
      faults.clear();
      return { status: 204 };
    }),
    controlRoute('POST', '/__sandbox/clock', (req) => {
      const body = req.json() as Record<string, unknown> | null;
      const advanceMs = body !== null && typeof body === 'object' ? body['advanceMs'] : undefined;
      if (typeof advanceMs !== 'number' || !Number.isFinite(advanceMs) || advanceMs < 0) {
        throw new HttpError(400, 'advanceMs must be a non-negative number');
      }
      clock.advance(advanceMs);
      return { status: 200, body: { now: new Date(clock.now()).toISOString() } };
    }),
  ];
}

/** Applies `rateLimitPerSecond` from a config body: a positive integer, or null to lift the limit. */
export function applyRateLimitSetting(body: Record<string, unknown>, limiter: { setLimit(limit: number | null): void }): void {
  if (body['rateLimitPerSecond'] === undefined) return;
  const limit = body['rateLimitPerSecond'];
  if (limit !== null && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1)) {
    throw new HttpError(400, 'rateLimitPerSecond must be a positive integer or null');
  }
  limiter.setLimit(limit);
}
