/**
 * Cold init measurement: each sample is a fresh `node` process that imports one bundle.
 * The child times `await import(bundle)` itself (so Node's own boot is excluded) and,
 * when asked, one first invocation of the handler; the parent times the whole process.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const RESULT_MARK = '__BENCH_COLD_INIT__';
const CHILD_TIMEOUT_MS = 30_000;

/** Runs in the child. Plain ESM so it needs no loader and adds nothing to the import. */
const TIMER_SOURCE = `import { pathToFileURL } from 'node:url';
const [bundle, exportName, mode] = process.argv.slice(2);
const t0 = performance.now();
const mod = await import(pathToFileURL(bundle).href);
const importMs = performance.now() - t0;
const handler = mod[exportName];
if (typeof handler !== 'function') throw new Error(bundle + ' exports no function ' + exportName);
let invokeMs = null;
if (mode === 'invoke') {
  const t1 = performance.now();
  await handler({}, { functionName: 'bench', getRemainingTimeInMillis: () => 10000 });
  invokeMs = performance.now() - t1;
}
process.stdout.write('\\n${RESULT_MARK}' + JSON.stringify({ importMs, invokeMs }) + '\\n', () => process.exit(0));
`;

/** One bundle to start cold, with the environment Lambda would give it. */
export interface InitVariant {
  id: string;
  bundle: string;
  exportName: string;
  env: Record<string, string>;
  /** Also time one invocation of the handler with an empty event. */
  invoke: boolean;
}

/** The samples of one variant. */
export interface InitSamples {
  importMs: number[];
  invokeMs: number[];
  wallMs: number[];
  /** Things the child printed that a reader should know about (e.g. a config error at init). */
  notes: Set<string>;
}

interface ChildResult {
  importMs: number;
  invokeMs: number | null;
  wallMs: number;
  stdout: string;
}

function runChild(timerPath: string, variant: InitVariant): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const began = performance.now();
    const child = spawn(process.execPath, [timerPath, variant.bundle, variant.exportName, variant.invoke ? 'invoke' : 'import'], {
      env: variant.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: CHILD_TIMEOUT_MS,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const wallMs = performance.now() - began;
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARK));
      if (code !== 0 || !line) {
        reject(new Error(`cold init of ${variant.id} failed (exit ${code ?? signal}):\n${stderr.slice(-2000)}`));
        return;
      }
      const parsed = JSON.parse(line.slice(RESULT_MARK.length)) as { importMs: number; invokeMs: number | null };
      resolve({ ...parsed, wallMs, stdout });
    });
  });
}

/** Options of `measureColdInits`. */
export interface MeasureOptions {
  workDir: string;
  /** Measured processes per variant. */
  runs: number;
  /** Discarded processes per variant first (file cache, lazy compilation of the timer). */
  warmups: number;
  progress(message: string): void;
}

/**
 * Starts every variant `warmups + runs` times, round-robin (variant A, B, C, A, B, C, ...)
 * so drift on a shared machine spreads evenly over the variants instead of favouring one.
 */
export async function measureColdInits(variants: readonly InitVariant[], options: MeasureOptions): Promise<Map<string, InitSamples>> {
  const timerPath = join(options.workDir, 'cold-init-timer.mjs');
  await writeFile(timerPath, TIMER_SOURCE);
  const samples = new Map<string, InitSamples>(
    variants.map((v) => [v.id, { importMs: [], invokeMs: [], wallMs: [], notes: new Set<string>() }]),
  );
  const rounds = options.warmups + options.runs;
  for (let round = 0; round < rounds; round += 1) {
    if (round === options.warmups || (round - options.warmups + 1) % 5 === 0) {
      options.progress(`cold init: round ${round + 1}/${rounds} (${variants.length} bundles, ${options.warmups} warm-up)`);
    }
    for (const variant of variants) {
      const result = await runChild(timerPath, variant);
      const entry = samples.get(variant.id) as InitSamples;
      if (result.stdout.includes('Invalid configuration at cold start')) entry.notes.add('logged "Invalid configuration at cold start"');
      if (round < options.warmups) continue;
      entry.importMs.push(result.importMs);
      entry.wallMs.push(result.wallMs);
      if (result.invokeMs !== null) entry.invokeMs.push(result.invokeMs);
    }
  }
  return samples;
}
