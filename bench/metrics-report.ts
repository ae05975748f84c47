/**
 * (c) The metrics report's local path at scale: a day of EMF lines (10,000 and 100,000
 * lines, as the local stack's file would hold after that many requests) read and parsed,
 * the report's queries answered, the report built and rendered to Markdown and HTML.
 * Median of 5 runs each, in-process, files in a temporary folder.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReport, readEmfFile, renderHtml, renderMarkdown, reportQueries, reportWindow, seriesFromSamples } from '#lib/report';
import { ms, table } from './support/markdown.ts';
import { median } from './support/stats.ts';
import type { Benchmark } from './support/types.ts';

const RUNS = 5;
const SIZES = [10_000, 100_000];

/** `lines` EMF lines spread over the last 24 hours, shaped like the prefill and worker lines. */
function emfDay(lines: number, end: number): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i += 1) {
    const timestamp = end - 1 - Math.floor((i / lines) * 86_400_000);
    const failure = i % 20 === 0;
    const dims = failure ? ['service', 'stage', 'function', 'reason'] : ['service', 'stage', 'function'];
    const metrics = failure ? { PrefillFailures: 1 } : { PrefillAttempts: 1, PrefillSuccesses: 1, PrefillLatency: 50 + (i % 400) };
    out.push(
      JSON.stringify({
        _aws: { Timestamp: timestamp, CloudWatchMetrics: [{ Namespace: 'GenesysGuestSync', Dimensions: [dims], Metrics: Object.keys(metrics).map((Name) => ({ Name })) }] },
        service: 'genesys-guest-sync',
        stage: 'local',
        function: 'genesys-guest-sync-local-prefill',
        ...(failure ? { reason: 'not_found' } : {}),
        ...metrics,
      }),
    );
  }
  return `${out.join('\n')}\n`;
}

export const metricsReportBenchmark: Benchmark = {
  name: 'metrics-report',
  async run(context) {
    const folder = await mkdtemp(join(tmpdir(), 'bench-report-'));
    const rows: string[][] = [];
    try {
      for (const size of SIZES) {
        context.progress(`metrics report: ${size} EMF lines`);
        const window = reportWindow();
        const file = join(folder, `emf-${size}.jsonl`);
        await writeFile(file, emfDay(size, window.end));
        const phases = { read: [] as number[], queries: [] as number[], build: [] as number[], render: [] as number[] };
        for (let run = 0; run < RUNS; run += 1) {
          let t = performance.now();
          const samples = await readEmfFile(file);
          phases.read.push(performance.now() - t);
          t = performance.now();
          const series = seriesFromSamples(samples, window, reportQueries(), { stage: 'local' });
          phases.queries.push(performance.now() - t);
          t = performance.now();
          const report = buildReport({ window, stage: 'local', source: 'bench', generatedAt: window.end, fetch: { series, warnings: [] }, queue: undefined });
          phases.build.push(performance.now() - t);
          t = performance.now();
          renderMarkdown(report);
          renderHtml(report);
          phases.render.push(performance.now() - t);
        }
        rows.push([size.toLocaleString('en-US'), ms(median(phases.read)), ms(median(phases.queries)), ms(median(phases.build)), ms(median(phases.render))]);
      }
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
    return [
      '## Metrics report (local path)',
      '',
      `A day of EMF lines in one file, read and parsed, the ${reportQueries().length} report queries answered, the report built, then rendered to Markdown and HTML; median of ${RUNS} runs.`,
      '',
      table(['EMF lines', 'read + parse', 'answer queries', 'build', 'render'], rows, ['r', 'r', 'r', 'r', 'r']),
    ].join('\n');
  },
};
