/**
 * Statistics over raw samples, named and computed the way CloudWatch names them, so
 * the local source answers the same queries as CloudWatch. Pure. (Hand-written: the few
 * lines below are simpler than a statistics dependency.)
 */
import type { Statistic } from './types.ts';

/** Nearest-rank percentile of the values (p in 0..100); undefined for no values. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

/** One statistic of the values; undefined when there are none (CloudWatch returns no data point). */
export function statistic(values: readonly number[], stat: Statistic): number | undefined {
  if (values.length === 0) return undefined;
  switch (stat) {
    case 'Sum':
      return values.reduce((sum, v) => sum + v, 0);
    case 'SampleCount':
      return values.length;
    case 'Average':
      return values.reduce((sum, v) => sum + v, 0) / values.length;
    case 'Maximum':
      return values.reduce((max, v) => (v > max ? v : max), -Infinity);
    case 'p50':
      return percentile(values, 50);
    case 'p95':
      return percentile(values, 95);
    case 'p99':
      return percentile(values, 99);
  }
}

/** Whether a statistic adds up across series (several functions, several labels). */
export function isAdditive(stat: Statistic): boolean {
  return stat === 'Sum' || stat === 'SampleCount';
}
