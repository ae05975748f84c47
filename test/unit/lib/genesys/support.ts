/**
 * Test doubles for the Genesys client: a scripted Genesys stand-in on 127.0.0.1, a token
 * source that counts its use, and a `sleep` that records the waits asked for.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GenesysClient } from '#lib/genesys';
import type { GenesysClientOptions, GenesysTokenSource } from '#lib/genesys';

/** A request as the stand-in received it. */
export interface RecordedRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** How the stand-in answers one request. */
export type Reply =
  | { status: number; headers?: Record<string, string>; body?: unknown }
  | { hang: true }
  | { drop: true };

/** One scripted answer, fixed or computed from the request. */
export type Step = Reply | ((request: RecordedRequest) => Reply);

/** A running stand-in. */
export interface ScriptedServer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** Answers the n-th request with the n-th step; past the script it answers 500. */
export async function startScriptedServer(script: Step[]): Promise<ScriptedServer> {
  const requests: RecordedRequest[] = [];
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
      const step = script[requests.length] ?? { status: 500, body: { code: 'script.exhausted' } };
      requests.push(recorded);
      const reply = typeof step === 'function' ? step(recorded) : step;
      if ('hang' in reply) return;
      if ('drop' in reply) {
        req.socket.destroy();
        return;
      }
      const text =
        reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      res.writeHead(reply.status, {
        ...(text === '' ? {} : { 'Content-Type': 'application/json' }),
        ...reply.headers,
      });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A base URL nothing listens on: every request fails with a connection error. */
export async function unreachableUrl(): Promise<string> {
  const server = await startScriptedServer([]);
  await server.close();
  return server.url;
}

/** A token source that hands out `token-1`, then `token-2` after an invalidate, and so on. */
export interface CountingTokens extends GenesysTokenSource {
  readonly getTokenCalls: number;
  readonly invalidateCalls: number;
}

/** Builds a counting token source. */
export function countingTokens(): CountingTokens {
  let generation = 1;
  let getTokenCalls = 0;
  let invalidateCalls = 0;
  return {
    get getTokenCalls() {
      return getTokenCalls;
    },
    get invalidateCalls() {
      return invalidateCalls;
    },
    async getToken() {
      getTokenCalls += 1;
      return `token-${generation}`;
    },
    invalidate() {
      invalidateCalls += 1;
      generation += 1;
    },
  };
}

/** A `sleep` that returns at once and remembers each wait it was asked for. */
export function recordingSleep(): { sleep: (ms: number) => Promise<void>; delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    sleep: async (ms: number) => {
      delays.push(ms);
    },
  };
}

/** A client against `baseUrl` with recorded sleeps, counted tokens and a fixed jitter. */
export function testClient(baseUrl: string, overrides: Partial<GenesysClientOptions> = {}) {
  const tokens = countingTokens();
  const { sleep, delays } = recordingSleep();
  const client = new GenesysClient({
    apiBaseUrl: baseUrl,
    tokens,
    sleep,
    random: () => 0.5,
    ...overrides,
  });
  return { client, tokens, delays };
}

/** Runs `act` and returns what it threw (fails the test if it did not throw). */
export async function caught<T = unknown>(act: () => Promise<unknown>): Promise<T> {
  try {
    await act();
  } catch (error) {
    return error as T;
  }
  throw new Error('expected the call to fail');
}
