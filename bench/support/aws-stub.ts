/**
 * A catch-all AWS JSON-protocol endpoint on 127.0.0.1 answering every call with `{}`, so a
 * handler's first SDK calls (SQS and Secrets Manager both speak AWS JSON) can be timed
 * without an AWS account or a network. It counts requests to prove the calls arrived.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running stub. */
export interface AwsJsonStub {
  url: string;
  requests(): number;
  close(): Promise<void>;
}

/** Starts the stub on an ephemeral port of 127.0.0.1. */
export async function startAwsJsonStub(): Promise<AwsJsonStub> {
  let requests = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests += 1;
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': `bench-${requests}` }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
