/**
 * `npx tsx bench/one.ts <name>` runs one benchmark of bench/run.ts and prints its section
 * (RESULTS.md is written only by the full run).
 */
import { BENCHMARKS } from './list.ts';

const name = process.argv[2] ?? '';
const benchmark = BENCHMARKS.find((candidate) => candidate.name === name);
if (!benchmark) {
  process.stderr.write(`usage: npx tsx bench/one.ts <${BENCHMARKS.map((candidate) => candidate.name).join('|')}>\n`);
  process.exit(2);
}
const root = new URL('..', import.meta.url).pathname;
process.stdout.write(`${await benchmark.run({ projectRoot: root.replace(/\/$/, ''), progress: (message) => process.stderr.write(`[bench] ${message}\n`) })}\n`);
