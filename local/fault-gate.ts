/**
 * A pass-through HTTP gate in front of a local AWS endpoint, so the local stack can play
 * what a sandbox cannot: an AWS service that accepts connections and never answers. The
 * functions reach the embedded SQS through it; the event source and tests go direct.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** `pass`: forward everything. `stall`: read the request, never answer. */
export type GateMode = 'pass' | 'stall';

/** A running gate. */
export interface FaultGate {
  endpoint: string;
  mode(): GateMode;
  setMode(mode: GateMode): void;
  /** Requests held since the gate last stalled. */
  stalled(): number;
  close(): Promise<void>;
}

/** Starts a gate on 127.0.0.1 (an ephemeral port) forwarding to `target`. */
export async function startFaultGate(target: string): Promise<FaultGate> {
  const upstream = new URL(target);
  let mode: GateMode = 'pass';
  let stalledCount = 0;
  const held = new Set<ServerResponse>();
  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    const out = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(out);
  };
  const server = createServer((req, res) => {
    if (mode === 'stall') {
      stalledCount += 1;
      held.add(res);
      req.resume();
      res.on('close', () => held.delete(res));
      return;
    }
    forward(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    mode: () => mode,
    setMode: (next) => {
      if (next === 'stall' && mode !== 'stall') stalledCount = 0;
      mode = next;
    },
    stalled: () => stalledCount,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of held) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
