/**
 * The embedded SQS's own thread (started by `startEmbeddedSqs`, local/sqs.ts): fauxqs,
 * listening on 127.0.0.1.
 */
import type { AddressInfo } from 'node:net';
import { buildApp } from 'fauxqs';
import { PortInUseError } from './ports.ts';
import { serveFromThread } from './threads.ts';

serveFromThread(async (port) => {
  // `host` only names the queue URLs (http://sqs.<region>.localhost:<port>/...), which
  // clients never connect to (they use the endpoint). It must not be an IP address: a URL
  // host ending in a number is parsed as IPv4, so "sqs.us-east-1.127.0.0.1" is not a valid
  // URL and CRM_SYNC_QUEUE_URL would fail the configuration check.
  const app = buildApp({ logger: false, host: 'localhost' });
  try {
    await app.listen({ port, host: '127.0.0.1' });
  } catch (error) {
    await app.close();
    const code = (error as NodeJS.ErrnoException).code;
    throw code === 'EADDRINUSE' || code === 'EACCES' ? new PortInUseError(port, 'embedded SQS') : error;
  }
  return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
});
