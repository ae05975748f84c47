/**
 * A loopback server that accepts every request and never answers: the stall that an AWS
 * SDK `requestTimeout` alone does not end, for tests of the suite's own deadlines.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running stalled server. */
export interface StalledServer {
  endpoint: string;
  /** Requests it has received (and is holding). */
  held(): number;
  close(): Promise<void>;
}

/** Starts one on 127.0.0.1 (an ephemeral port). */
export async function startStalledServer(): Promise<StalledServer> {
  let held = 0;
  const server = createServer((req) => {
    held += 1;
    req.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held: () => held,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
