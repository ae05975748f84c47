/**
 * `npm run bench`: runs every benchmark in sequence, prints one Markdown document and
 * writes it to bench/RESULTS.md with the machine and date it was measured on.
 *
 * To add a benchmark: write bench/<name>.ts exporting a `Benchmark` (see
 * bench/support/types.ts) whose run() returns one Markdown section, and list it in
 * bench/list.ts.
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCHMARKS } from './list.ts';
import { machineSection } from './support/machine.ts';
import type { BenchContext } from './support/types.ts';

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
