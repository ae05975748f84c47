/**
 * `npm run demo`: the whole suite end to end in one command. Uses the local stack already
 * running from this checkout (`.local/stack.json` and a healthy `GET /health`), else starts
 * one (serverless-offline's output goes to `.local/demo-stack.log`) and stops it at the end,
 * also on Ctrl-C. Drives every HTTP route with the sample events, waits for the CRM sync,
 * prints what happened and exits 1 if anything did not behave as documented.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { startLocalStack, StackStartError, type LocalStack, type StackEndpoints } from '#local/stack.ts';
import { parseCli } from './cli.ts';
import { demoExitCode, runDemo } from './demo/run.ts';
import { formatSummary } from './demo/summary.ts';
import { API_URL_OPTION, API_URL_USAGE, readStackEndpoints } from './stack-endpoints.ts';

/** The whole demo, stack start included, must end well within two minutes. */
const OVERALL_LIMIT_MS = 110_000;

const { values } = parseCli({ name: 'demo', usage: `usage: npm run demo [-- ${API_URL_USAGE}]`, options: { ...API_URL_OPTION } });

const out = (line: string): void => void process.stdout.write(`${line}\n`);

/** The stack this demo starts (also while it is still starting: Ctrl-C then waits for it, to stop it). */
let starting: Promise<LocalStack> | undefined;
let stopping: Promise<void> | undefined;
const stopStarted = (): Promise<void> =>
  (stopping ??= starting ? starting.then((stack) => stack.stop(), () => undefined) : Promise.resolve());

const abort = (why: string, code: number): void => {
  process.stderr.write(`\n${why}${starting ? ': stopping the local stack the demo started...' : ''}\n`);
  void stopStarted().finally(() => process.exit(code));
};
process.once('SIGINT', () => abort('Interrupted', 130));
process.once('SIGTERM', () => abort('Terminated', 143));
const limit = setTimeout(() => abort(`The demo did not finish within ${OVERALL_LIMIT_MS / 1000} s`, 1), OVERALL_LIMIT_MS);

/** A stack this checkout already runs, if it answers. */
async function runningStack(): Promise<StackEndpoints | undefined> {
  const endpoints = await readStackEndpoints(process.cwd(), { apiUrl: values['api-url'] });
  if (!endpoints) return undefined;
  try {
    const response = await fetch(`${endpoints.apiUrl}/health`, { signal: AbortSignal.timeout(2_000) });
    return response.status === 200 ? endpoints : undefined;
  } catch {
    return undefined;
  }
}

let exitCode = 1;
try {
  let endpoints = await runningStack();
  if (endpoints) {
    out(`Using the local stack already running at ${endpoints.apiUrl} (.local/stack.json).`);
  } else {
    const logFile = join('.local', 'demo-stack.log');
    await mkdir('.local', { recursive: true });
    const stackLog = createWriteStream(logFile, { flags: 'a' });
    out(`Starting the local stack (output in ${logFile})...`);
    const begin = Date.now();
    starting = startLocalStack({
      offlineOutput: logFile,
      // The demo's stack is its own: `npm start`'s stack file is left alone.
      writeStackFile: false,
      log: (line) => void stackLog.write(`${line}\n`),
    });
    endpoints = (await starting).endpoints;
    out(`Local stack ready at ${endpoints.apiUrl} in ${((Date.now() - begin) / 1000).toFixed(1)} s.`);
  }
  out('');
  const result = await runDemo(endpoints, { log: out });
  out('');
  process.stdout.write(formatSummary(result));
  exitCode = demoExitCode(result);
} catch (error) {
  process.stderr.write(`The demo could not run: ${error instanceof Error ? error.message : String(error)}\n`);
  if (!(error instanceof StackStartError)) process.stderr.write('See README "Troubleshooting".\n');
} finally {
  if (starting) out(`Stopping the local stack the demo started (its log: ${relative(process.cwd(), join('.local', 'demo-stack.log'))}).`);
  await stopStarted();
  clearTimeout(limit);
}
process.exit(exitCode);
