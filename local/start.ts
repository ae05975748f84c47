/**
 * `npm start`: runs the whole suite on 127.0.0.1 with no AWS account, prints where
 * everything listens and a first request to try, and shuts down cleanly on Ctrl-C.
 * Every port follows PORT (local/ports.ts), so `PORT=3100 npm start` runs a second stack.
 */
import { relative } from 'node:path';
import { startLocalStack, StackStartError, type LocalStack } from './stack.ts';
import { stackFile } from './stack-state.ts';

// Locally only: the SDK's notice that future versions need Node 22 says nothing about this
// stack (Lambda runs Node 22); it must be set before the first SDK client is created.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

const started = Date.now();
process.stdout.write('Starting the local stack (embedded SQS, Secrets Manager, sandboxes, HTTP API)...\n');

let stack: LocalStack | undefined;
try {
  stack = await startLocalStack({ log: (line) => process.stdout.write(`${line}\n`) });
} catch (error) {
  // A StackStartError says what to do; anything else gets its message and where to look.
  if (error instanceof StackStartError) process.stderr.write(`\nThe local stack could not start.\n${error.message}\n`);
  else {
    process.stderr.write(`\nThe local stack could not start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.stderr.write('Everything it had started is stopped. See README "Troubleshooting".\n');
  }
  process.exit(1);
}

const e = stack.endpoints;
const lines = [
  '',
  `Local stack ready in ${((Date.now() - started) / 1000).toFixed(1)} s. Everything listens on 127.0.0.1:`,
  `  HTTP API             ${e.apiUrl}`,
  `  Lambda invoke        ${e.lambdaEndpoint}`,
  `  Stack control        ${e.controlUrl}/__local/stack`,
  `  SQS ${stack.sqs ? '(embedded)' : '(external)'}       ${e.sqsEndpoint}`,
  `    queue              ${e.queueUrl}`,
  `    dead-letter queue  ${e.dlqUrl}`,
  `  Secrets Manager      ${e.secretsEndpoint}`,
  `  DynamoDB (embedded)  ${e.dynamodbEndpoint}   state table: ${e.stateTableName}`,
  `  Genesys ${e.sandboxGenesys ? '(sandbox)' : '(external)'}    ${e.genesysUrl}${e.sandboxGenesys ? `   state: ${e.genesysUrl}/__sandbox/state` : ''}`,
  `  EventBridge bus      ${e.eventBusUrl}   bus: ${e.eventBusName}`,
  `    events DLQ         ${e.eventsDlqUrl}`,
  `  CRM ${e.sandboxCrm ? '(sandbox)' : '(external)'}        ${e.crmUrl}   CRM_PROVIDER=${e.crmProvider}${e.sandboxCrm ? `   state: ${e.crmUrl}/__sandbox/state` : ''}`,
  `  Endpoints file       ${relative(process.cwd(), stackFile(process.cwd(), new URL(e.apiUrl).port))} (and .local/stack.json, which the npm run scripts read)`,
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
const shutdown = async (why: string, code: number): Promise<void> => {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`\n${why}: stopping the local stack...\n`);
  await stack?.stop();
  process.stdout.write('Stopped.\n');
  process.exit(code);
};
process.on('SIGINT', () => void shutdown('SIGINT received', 0));
process.on('SIGTERM', () => void shutdown('SIGTERM received', 0));
// Whatever fails later, nothing the stack started is left running.
process.on('uncaughtException', (error) => {
  process.stderr.write(`\nUnexpected error: ${error.stack ?? error.message}\n`);
  void shutdown('Unexpected error', 1);
});
