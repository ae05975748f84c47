/**
 * A minimal OAuth client-credentials endpoint on 127.0.0.1 that counts the token requests
 * it answers and holds each one for a fixed latency, so concurrent callers really overlap.
 * The Genesys sandbox serves the same route; this one exists to add the latency and a
 * plain counter without touching the sandbox.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running counting token server. */
export interface CountingTokenServer {
  /** The login base URL (`POST {url}/oauth/token`). */
  url: string;
  /** Token requests answered with 200 so far. */
  issued(): number;
  /** Requests refused (wrong route, method or credentials) so far. */
  refused(): number;
  close(): Promise<void>;
}

/** Options of `startCountingTokenServer`. */
export interface CountingTokenServerOptions {
  clientId: string;
  clientSecret: string;
  tokenTtlSeconds: number;
  latencyMs: number;
}

/** Starts the server on an ephemeral port of 127.0.0.1. */
export async function startCountingTokenServer(options: CountingTokenServerOptions): Promise<CountingTokenServer> {
  const expectedAuth = `Basic ${Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64')}`;
  let issued = 0;
  let refused = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const ok = req.method === 'POST' && req.url === '/oauth/token' && req.headers.authorization === expectedAuth;
      setTimeout(() => {
        if (!ok) {
          refused += 1;
          res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}');
          return;
        }
        issued += 1;
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({ access_token: `bench-token-${issued}`, token_type: 'bearer', expires_in: options.tokenTtlSeconds }),
        );
      }, options.latencyMs);
    });
  });
  // A deep accept queue: a thousand callers may connect in the same tick.
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    issued: () => issued,
    refused: () => refused,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
