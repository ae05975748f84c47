/** Order statistics for benchmark samples (nearest-rank, no interpolation). */

/** The nearest-rank percentile `p` (0..100) of the samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

/** The median (nearest-rank p50). */
export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}
