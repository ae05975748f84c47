/**
 * The one HTTP double of the unit tests: a loopback server on 127.0.0.1 that answers the
 * n-th request with the n-th step of a script (a fixed reply or one computed from the
 * request), records every request, and can hang or drop a connection, the stalls an AWS SDK
 * `requestTimeout` alone does not end.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as the server received it. */
export interface RecordedRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** How the server answers one request: a response (JSON unless the headers say otherwise, after `delayMs`), never, or by closing the socket. */
export type Reply =
  | { status: number; headers?: Record<string, string>; body?: unknown; delayMs?: number }
  | { hang: true }
  | { drop: true };

/** One scripted answer, fixed or computed from the request and its 1-based number. */
export type Step = Reply | ((request: RecordedRequest, n: number) => Reply);

/** What the server does once the script has run out; by default it answers 500. */
export interface ScriptOptions {
  after?: Step;
}

/** A running scripted server. */
export interface ScriptedServer {
  url: string;
  requests: RecordedRequest[];
  /** Connections the client has closed (a deadline that aborts closes the one it held). */
  closedConnections(): number;
  close(): Promise<void>;
}

const EXHAUSTED: Reply = { status: 500, body: { code: 'script.exhausted' } };

/** Answers the n-th request with the n-th step, then with `options.after`. */
export async function startScriptedServer(script: Step[] = [], options: ScriptOptions = {}): Promise<ScriptedServer> {
  const requests: RecordedRequest[] = [];
  let closed = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      const step = script[requests.length] ?? options.after ?? EXHAUSTED;
      requests.push(recorded);
      const reply = typeof step === 'function' ? step(recorded, requests.length) : step;
      if ('hang' in reply) return;
      if ('drop' in reply) {
        req.socket.destroy();
        return;
      }
      const text = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      const typed = Object.keys(reply.headers ?? {}).some((name) => name.toLowerCase() === 'content-type');
      const answer = (): void => {
        res.writeHead(reply.status, { ...(text === '' || typed ? {} : { 'Content-Type': 'application/json' }), ...reply.headers });
        res.end(text);
      };
      if (reply.delayMs === undefined) answer();
      else setTimeout(answer, reply.delayMs);
    });
  });
  server.on('connection', (socket) => socket.on('close', () => (closed += 1)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    closedConnections: () => closed,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A server that takes every request and never answers. */
export function startStalledServer(): Promise<ScriptedServer> {
  return startScriptedServer([], { after: { hang: true } });
}

/** A base URL nothing listens on (a port just freed): every request fails with a connection error. */
export async function unreachableUrl(): Promise<string> {
  const server = await startScriptedServer();
  await server.close();
  return server.url;
}
