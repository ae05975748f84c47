/**
 * `npm run bench`: runs every benchmark in sequence, prints one Markdown document and
 * writes it to bench/RESULTS.md with the machine and date it was measured on.
 *
 * To add a benchmark: write bench/<name>.ts exporting a `Benchmark` (see
 * bench/support/types.ts) whose run() returns one Markdown section, and list it below.
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { coldInitBenchmark } from './cold-init.ts';
import { crmSyncBenchmark } from './crm-sync.ts';
import { loadBenchmark } from './load.ts';
import { metricsReportBenchmark } from './metrics-report.ts';
import { outageBenchmark } from './outage.ts';
import { prechatBenchmark } from './prechat.ts';
import { prefillLatencyBenchmark } from './prefill-latency.ts';
import { rotationBenchmark } from './rotation.ts';
import { sqsStallBenchmark } from './sqs-stall.ts';
import { machineSection } from './support/machine.ts';
import type { Benchmark, BenchContext } from './support/types.ts';
import { tokenProviderBenchmark } from './token-provider.ts';

/** Every benchmark, in the order they run and appear in RESULTS.md. */
const BENCHMARKS: readonly Benchmark[] = [
  tokenProviderBenchmark,
  rotationBenchmark,
  coldInitBenchmark,
  prechatBenchmark,
  metricsReportBenchmark,
  prefillLatencyBenchmark,
  sqsStallBenchmark,
  crmSyncBenchmark,
  outageBenchmark,
  loadBenchmark,
];

const benchDir = dirname(fileURLToPath(import.meta.url));
const context: BenchContext = {
  projectRoot: dirname(benchDir),
  progress: (message) => process.stderr.write(`[bench] ${message}\n`),
};

const began = performance.now();
const sections: string[] = [];
for (const benchmark of BENCHMARKS) {
  const start = performance.now();
  sections.push(await benchmark.run(context));
  context.progress(`${benchmark.name}: ${((performance.now() - start) / 1000).toFixed(1)} s`);
}

const document = [
  '# Benchmarks',
  '',
  'Produced by `npm run bench` (bench/run.ts); every number below was measured by that run, none is edited by hand.',
  '',
  machineSection(),
  `- Duration of the run: ${((performance.now() - began) / 1000).toFixed(1)} s`,
  '',
  ...sections.flatMap((section) => [section, '']),
].join('\n');

await writeFile(join(benchDir, 'RESULTS.md'), document);
process.stdout.write(document);
context.progress('wrote bench/RESULTS.md');
