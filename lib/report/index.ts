/**
 * The metrics report: the pure builder, its data sources (CloudWatch in AWS, the local
 * stack's EMF file locally), the renderers (JSON, Markdown, HTML with inline SVG, Slack)
 * and the delivery to S3 and a webhook. Only the report function, the local stack and the
 * tools import it; every other function needs only `#lib/observability`.
 */
export { buildReport } from './build.ts';
export { reportQueries } from './catalog.ts';
export { sharedCloudWatchClient, sharedS3Client } from './clients.ts';
export { produceReport, reportStamp } from './produce.ts';
export { renderHtml } from './render/html.ts';
export { renderMarkdown } from './render/markdown.ts';
export { runScheduledReport } from './run.ts';
export { localEmfSource, readEmfFile, seriesFromSamples } from './sources/local.ts';
export { reportWindow } from './window.ts';
