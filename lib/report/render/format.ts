/** Number, rate and duration formatting shared by the findings and the renderers. Pure. */

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 1234 -> "1,234". */
export function count(value: number): string {
  return integer.format(value);
}

/** 0.8234 -> "82.3%"; null -> "n/a". */
export function percent(rate: number | null): string {
  return rate === null ? 'n/a' : `${(rate * 100).toFixed(1)}%`;
}

/** 842 -> "842 ms", 2400 -> "2.4 s"; null -> "n/a". */
export function millis(value: number | null): string {
  if (value === null) return 'n/a';
  return value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(1)} s`;
}

/** 45 -> "45 s", 1500 -> "25 min", 9000 -> "2.5 h"; null -> "n/a". */
export function duration(seconds: number | null): string {
  if (seconds === null) return 'n/a';
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** "24 hours" / "1 hour". */
export function hours(value: number): string {
  return value === 1 ? '1 hour' : `${value} hours`;
}

/** `{a: 3, b: 1}` -> "a (3), b (1)". */
export function breakdown(counts: Record<string, number>, limit = 3): string {
  return Object.entries(counts)
    .slice(0, limit)
    .map(([label, n]) => `${label} (${count(n)})`)
    .join(', ');
}
