/**
 * The metrics report: the pure builder, its data sources (CloudWatch in AWS, the local
 * stack's EMF file locally), the renderers (JSON, Markdown, HTML with inline SVG, Slack)
 * and the delivery to S3 and a webhook. Only the report function and tools import it.
 */
export { MetricDimensions, MetricNames } from '../names.ts';
export type { MetricDimension, MetricName } from '../names.ts';
export { BASE_DIMENSIONS, BREAKDOWNS, METRICS_NAMESPACE, queryId, reportQueries } from '../catalog.ts';
export { bucketCount, bucketIndex, bucketStarts, lastHourBucketCount, MAX_WINDOW_HOURS, reportWindow } from '../window.ts';
export type { WindowOptions } from '../window.ts';
export { percentile, statistic } from '../stats.ts';
export { buildReport, healthScore, HEALTHY_START_RATE } from '../report.ts';
export type { ReportInput } from '../report.ts';
export { findingsFor, PREFILL_P95_TARGET_MS, QUEUE_AGE_TARGET_SECONDS } from '../findings.ts';
export { isEmfLine, parseEmfLine } from '../emf.ts';
export type { EmfSample } from '../emf.ts';
export { localEmfSource, readEmfFile, seriesFromSamples } from '../local-source.ts';
export type { LocalSourceOptions } from '../local-source.ts';
export { batches, cloudWatchSource, MAX_QUERIES_PER_REQUEST, toMetricDataQuery } from '../cloudwatch-source.ts';
export type { CloudWatchSourceOptions } from '../cloudwatch-source.ts';
export { queueNameOf, readQueueCounts } from '../queues.ts';
export { renderChart, niceMax, escapeXml } from '../charts.ts';
export type { ChartSeries, ChartSpec } from '../charts.ts';
export { renderMarkdown, HEALTH_LABEL } from '../render-markdown.ts';
export { renderHtml, CHART_COLORS } from '../render-html.ts';
export { renderSlack } from '../render-slack.ts';
export { produceReport, reportStamp } from '../produce.ts';
export type { ReportOutput } from '../produce.ts';
export { deliverReport } from '../publish.ts';
export type { DeliveryResult, DeliveryTargets } from '../publish.ts';
export { recordQueueGauges, reportSourceFor, runSummary } from '../run.ts';
export { resetMetricsClientsForTests, sharedCloudWatchClient, sharedS3Client } from '../clients.ts';
export type * from '../types.ts';
