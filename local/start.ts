/**
 * `npm start`: runs the whole suite on 127.0.0.1 with no AWS account, prints where
 * everything listens and a first request to try, and shuts down cleanly on Ctrl-C.
 */
import { rm } from 'node:fs/promises';
import { startLocalStack } from './stack.ts';

const started = Date.now();
process.stdout.write('Starting the local stack (embedded SQS, Secrets Manager, sandboxes, HTTP API)...\n');

const stack = await startLocalStack({
  log: (line) => process.stdout.write(`${line}\n`),
}).catch((error: unknown) => {
  process.stderr.write(`\nThe local stack could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.stderr.write('See README "Troubleshooting" (a port in use? set PORT, LOCAL_*_PORT).\n');
  process.exit(1);
});

const e = stack.endpoints;
const lines = [
  '',
  `Local stack ready in ${((Date.now() - started) / 1000).toFixed(1)} s. Everything listens on 127.0.0.1:`,
  `  HTTP API             ${e.apiUrl}`,
  `  Lambda invoke        ${e.lambdaEndpoint}`,
  `  Stack control        ${e.controlUrl}/__local/stack`,
  `  SQS (embedded)       ${e.sqsEndpoint}`,
  `    queue              ${e.queueUrl}`,
  `    dead-letter queue  ${e.dlqUrl}`,
  `  Secrets Manager      ${e.secretsEndpoint}`,
  `  Genesys ${e.sandboxGenesys ? '(sandbox)' : '(external)'}    ${e.genesysUrl}${e.sandboxGenesys ? `   state: ${e.genesysUrl}/__sandbox/state` : ''}`,
  `  CRM ${e.sandboxCrm ? '(sandbox)' : '(external)'}        ${e.crmUrl}${e.sandboxCrm ? `   state: ${e.crmUrl}/__sandbox/state` : ''}`,
  '',
  'Try:',
  `  curl -s ${e.apiUrl}/health`,
  `  TOKEN=$(npm run -s token -- --sub demo-client --scope "guest-sync/read guest-sync/write")`,
  '',
  'Press Ctrl-C to stop.',
  '',
];
process.stdout.write(lines.join('\n'));

let stopping = false;
const shutdown = async (signal: string): Promise<void> => {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`\n${signal} received: stopping the local stack...\n`);
  await stack.stop();
  await rm('.local/stack.json', { force: true });
  process.stdout.write('Stopped.\n');
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
