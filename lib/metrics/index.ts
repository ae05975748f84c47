/** Metric names shared by every function and the metrics report. */
export { MetricNames } from './names.ts';
export type { MetricName } from './names.ts';
