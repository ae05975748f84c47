/**
 * The suite's metric names, importable on their own: every function imports this, so it
 * must stay free of the report's AWS clients (the report lives in `#lib/metrics/report`).
 */
export { MetricDimensions, MetricNames } from './names.ts';
export type { MetricDimension, MetricName } from './names.ts';
