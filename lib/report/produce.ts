/**
 * One report run, shared by the scheduled function and `npm run report`: fetch from a
 * data source, build, render the three outputs.
 */
import { reportQueries } from './catalog.ts';
import { buildReport } from './build.ts';
import { renderHtml } from './render/html.ts';
import { renderMarkdown } from './render/markdown.ts';
import type { MetricsReport, ReportDataSource, ReportWindow } from './types.ts';

/** A built report and its renderings. */
export interface ReportOutput {
  report: MetricsReport;
  json: string;
  markdown: string;
  html: string;
}

/** Fetches the series and the queues (in parallel), builds and renders the report. */
export async function produceReport(options: {
  source: ReportDataSource;
  stage: string;
  window: ReportWindow;
  now?: () => number;
}): Promise<ReportOutput> {
  const [fetched, queue] = await Promise.all([
    options.source.fetchSeries(options.window, reportQueries()),
    options.source.queueSnapshot(),
  ]);
  const report = buildReport({
    window: options.window,
    stage: options.stage,
    source: options.source.name,
    generatedAt: (options.now ?? Date.now)(),
    fetch: fetched,
    queue,
  });
  return { report, json: `${JSON.stringify(report, null, 2)}\n`, markdown: renderMarkdown(report), html: renderHtml(report) };
}

/** A file-name-safe stamp for a report: its generation time, e.g. `2026-11-21T05-00-00Z`. */
export function reportStamp(report: MetricsReport): string {
  return report.generatedAt.replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}
