/**
 * The shared logger, metrics emitter and metric names: every module that logs or emits a
 * metric imports them from here (never from the middy stacks in `#lib/lambda`).
 */
export { logger } from './logger.ts';
export { metrics } from './metrics.ts';
export { MetricDimensions, MetricNames } from './names.ts';
export type { MetricDimension, MetricName } from './names.ts';
export { serviceName } from './service.ts';
