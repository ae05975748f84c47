/**
 * Benchmark: the prefill handler's in-process latency (`functions/http/prefill.ts`, the
 * real middy stack and shared clients, invoked directly with an API Gateway event) against
 * an instant loopback Genesys, next to a bare handler that makes the same PUT with plain
 * `fetch` and no validation, masking, audit or queueing. The goal of issue 3 is at most
 * 1.3x the bare handler at p50. axios (what the issue names for the bare handler) is not
 * installed in this project, so the bare handler uses Node's built-in fetch, which is also
 * what the Genesys client uses: both sides share one HTTP stack (undici, keep-alive).
 *
 * The real handler also sends the CRM sync job to SQS (the contract requires it), so a
 * third variant, the bare handler plus one SendMessageBatch with the same SDK client,
 * shows how much of the gap is that second round trip rather than the handler's own code.
 * The measurement runs in a process of its own (support/prefill-latency-worker.ts), so no
 * other benchmark's module state leaks into it; every server listens on 127.0.0.1.
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

type VariantReport = PrefillLatencyReport['phases'][number]['variants'][number];

async function run(bench: BenchContext): Promise<string> {
  const report = await runWorker(bench);
  const [instant, slow] = report.phases as [PrefillLatencyReport['phases'][number], PrefillLatencyReport['phases'][number]];
  const p = (v: VariantReport, q: number): number => percentile(v.samples, q);
  const rowsOf = (list: VariantReport[]): string[][] => {
    const [first, withSend, handlerVariant] = list as [VariantReport, VariantReport, VariantReport];
    return list.map((v) => [
      v.label,
      `${v.samples.length - v.failures} / ${v.samples.length}`,
      fine(p(v, 50)),
      fine(p(v, 90)),
      fine(p(v, 99)),
      v === first ? '1.00x' : ratio(p(v, 50) / p(first, 50)),
      v === first ? '1.00x' : ratio(p(v, 99) / p(first, 99)),
      v === handlerVariant ? ratio(p(v, 50) / p(withSend, 50)) : '',
    ]);
  };
  const headers = ['variant', 'answered 200', 'p50', 'p90', 'p99', 'p50 vs bare', 'p99 vs bare', 'p50 vs bare + send'];
  const align: Array<'l' | 'r'> = ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'];
  const [bare, bareWithSend, real] = instant.variants as [VariantReport, VariantReport, VariantReport];
  const [slowBare, , slowReal] = slow.variants as [VariantReport, VariantReport, VariantReport];
  const p50Ratio = p(real, 50) / p(bare, 50);
  const sameWorkRatio = p(real, 50) / p(bareWithSend, 50);
  const verdict =
    p50Ratio <= GOAL_RATIO
      ? `Goal met: the prefill handler's p50 is ${ratio(p50Ratio)} the bare handler's (goal: at most ${GOAL_RATIO}x).`
      : `**Goal NOT met**: the prefill handler's p50 is ${ratio(p50Ratio)} the bare handler's (goal: at most ${GOAL_RATIO}x). ` +
        'The bare handler makes one round trip (the PUT); the prefill handler must make two (the PUT, then the SQS send the contract requires), ' +
        `so against the bare handler doing the same two round trips it is ${ratio(sameWorkRatio)} at p50: that is the cost of the handler's own code ` +
        '(middy stack, validation, hashing, masking, coercion, audit line, EMF metrics, the SDK call).';
  const count = (n: number): string => n.toLocaleString('en-US');

  return [
    '## Prefill handler latency, next to a bare handler',
    '',
    `${count(report.measured)} sequential requests per variant (after ${report.warmUp} discarded warm-up requests each), taking turns in blocks of ${report.block}, ` +
      'in one Node process of their own. Each request is the seed\'s example (six attributes, email and phone among them, and three consent flags) as an API Gateway ' +
      'payload 2.0 event, and each handler is called directly with it. Genesys is a loopback server that answers every PUT at once; SQS is a loopback ' +
      'AWS JSON endpoint that accepts every SendMessageBatch at once (with the MD5s the SDK checks). The prefill handler runs with its deployed environment ' +
      '(log level INFO), its real middy stack and shared clients (token cached after the first request, secrets from the local Secrets Manager); its audit ' +
      `line and EMF metrics are serialised and written to a counting stdout (${Math.round(report.outputBytesPerRequest)} bytes per request), so their cost is included. ` +
      '**axios is not installed in this project**, so the bare handler uses Node\'s built-in `fetch` (the same HTTP stack the Genesys client uses) and no validation.',
    '',
    table(headers, rowsOf(instant.variants), align),
    '',
    `Requests seen by the loopback servers in the measured phase: ${count(report.puts)} attribute PUTs (3 x ${count(report.measured)}) and ` +
      `${count(report.sends)} SendMessageBatch calls (2 x ${count(report.measured)}).`,
    '',
    verdict,
    '',
    `For scale, the same three variants with the loopback Genesys answering each PUT after ${report.slowGenesysMs} ms ` +
      `(${report.slowMeasured} requests each, same process, same blocks; not the goal's measurement):`,
    '',
    table(headers, rowsOf(slow.variants), align),
    '',
    `With a Genesys that takes ${report.slowGenesysMs} ms, the prefill handler's p50 is ${ratio(p(slowReal, 50) / p(slowBare, 50))} the bare handler's ` +
      `(+${fine(p(slowReal, 50) - p(slowBare, 50))}).`,
  ].join('\n');
}

/** The prefill latency benchmark, for bench/run.ts. */
export const prefillLatencyBenchmark: Benchmark = { name: 'prefill latency', run };
