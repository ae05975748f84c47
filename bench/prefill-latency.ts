/**
 * Benchmark: the prefill handler's in-process latency (`functions/http/prefill.ts`, the
 * real middy stack and shared clients, invoked directly with an API Gateway event) next to
 * a bare twin that makes the same writes over the same SDK clients and loopback servers,
 * side by side in one run: the prepared session (the state table's read of the session and
 * its two writes, the reference and the session), the participant-attributes PATCH when the
 * session is linked to a live conversation, and the SQS send. The goal of issue 11 is at
 * most 1.3x the twin at p50. The twin uses Node's built-in fetch for the PATCH, which is
 * also what the Genesys client uses. The measurement runs in a process of its own
 * (support/prefill-latency-worker.ts), so no other benchmark's module state leaks into it;
 * every server listens on 127.0.0.1.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ratio, table } from './support/markdown.ts';
import type { PrefillLatencyReport } from './support/prefill-latency-worker.ts';
import { percentile } from './support/stats.ts';
import type { Benchmark, BenchContext } from './support/types.ts';

const GOAL_RATIO = 1.3;
const WORKER_TIMEOUT_MS = 300_000;

/** Milliseconds with two decimals: the loopback round trips are well under a millisecond. */
const fine = (value: number): string => `${value.toFixed(2)} ms`;

/** Runs the worker with tsx and reads its JSON report; progress lines pass through to stderr. */
function runWorker(bench: BenchContext): Promise<PrefillLatencyReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(bench.projectRoot, 'bench/support/prefill-latency-worker.ts')], {
      cwd: bench.projectRoot,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8');
      for (const line of chunk.toString('utf8').split('\n')) if (line.startsWith('[bench] ')) bench.progress(line.slice(8));
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), WORKER_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`prefill latency worker exited with ${code}: ${err.slice(-2000)}`));
      try {
        resolve(JSON.parse(Buffer.concat(out).toString('utf8').trim().split('\n').pop() ?? '') as PrefillLatencyReport);
      } catch (error) {
        reject(error);
      }
    });
  });
}

type PhaseReport = PrefillLatencyReport['phases'][number];
type VariantReport = PhaseReport['variants'][number];

const trips = (v: VariantReport, measured: number): string =>
  (['get', 'put', 'patch', 'send'] as const)
    .filter((kind) => v.roundTrips[kind] > 0)
    .map((kind) => `${Number((v.roundTrips[kind] / measured).toFixed(2))} ${kind}`)
    .join(' + ');

async function run(bench: BenchContext): Promise<string> {
  const report = await runWorker(bench);
  const p = (v: VariantReport, q: number): number => percentile(v.samples, q);
  const headers = ['phase', 'variant', 'answered 200', 'round trips per request', 'p50', 'p90', 'p99', 'p50 vs twin', 'p99 vs twin'];
  const align: Array<'l' | 'r'> = ['l', 'l', 'r', 'l', 'r', 'r', 'r', 'r', 'r'];
  const rows: string[][] = [];
  const verdicts: string[] = [];
  for (const phase of report.phases) {
    const [twin, real] = phase.variants as [VariantReport, VariantReport];
    for (const v of phase.variants) {
      rows.push([
        phase.name,
        v.label,
        `${v.samples.length - v.failures} / ${v.samples.length}`,
        trips(v, report.measured),
        fine(p(v, 50)),
        fine(p(v, 90)),
        fine(p(v, 99)),
        v === twin ? '1.00x' : ratio(p(v, 50) / p(twin, 50)),
        v === twin ? '1.00x' : ratio(p(v, 99) / p(twin, 99)),
      ]);
    }
    const p50Ratio = p(real, 50) / p(twin, 50);
    verdicts.push(
      `${phase.name}: the prefill handler's p50 is ${ratio(p50Ratio)} its twin's (+${fine(p(real, 50) - p(twin, 50))}); ` +
        (p50Ratio <= GOAL_RATIO ? `goal met (at most ${GOAL_RATIO}x).` : `**goal NOT met** (at most ${GOAL_RATIO}x).`),
    );
  }
  const count = (n: number): string => n.toLocaleString('en-US');

  return [
    '## Prefill handler latency, next to a bare twin making the same writes',
    '',
    `${count(report.measured)} sequential requests per variant and phase (after ${report.warmUp} discarded warm-up requests each), taking turns in blocks of ${report.block}, ` +
      "in one Node process of their own. Each request is the seed's example (six attributes, email and phone among them, and three consent flags) as an API Gateway " +
      'payload 2.0 event, and each handler is called directly with it. The state table is a loopback DynamoDB (AWS JSON) answering GetItem and PutItem at once from memory, ' +
      'SQS a loopback endpoint accepting every SendMessageBatch at once (with the MD5s the SDK checks), Genesys a loopback server answering every participant PATCH with 202 at once. ' +
      'The prefill handler runs with its deployed environment (log level INFO), its real middy stack and shared clients (token cached after the first request, secrets from the ' +
      `local Secrets Manager); its audit line and EMF metrics are serialised and written to a counting stdout (${Math.round(report.outputBytesPerRequest)} bytes per request), so their cost is included. ` +
      'The twin makes the same calls with the same SDK (DynamoDB and SQS clients) and `fetch` (the PATCH), and nothing else: no validation, hashing, masking, coercion, audit, ' +
      'metrics, retries or deadlines. "Not linked": the session has no conversation yet (what a page does before the first message). "Linked": the session was linked to a live ' +
      'conversation (as the events function records it), so prefill also PATCHes the guest participant.',
    '',
    table(headers, rows, align),
    '',
    'Round trips are counted by the loopback servers during the measured requests. Prefill reads the session before writing it (it must keep the session\'s reference and ' +
      'conversation link, and a write conditional on the revision it read keeps a concurrent link), writes the reference item, then the session item: three state-table round trips, ' +
      'which the twin makes too.',
    '',
    ...verdicts.map((line) => `- ${line}`),
  ].join('\n');
}

/** The prefill latency benchmark, for bench/run.ts. */
export const prefillLatencyBenchmark: Benchmark = { name: 'prefill latency', run };
