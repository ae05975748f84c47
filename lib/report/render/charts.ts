/**
 * Inline SVG charts for the HTML report: bars and lines over the window's buckets,
 * scaled to fit any screen (viewBox, width 100%). Hand-written because the page must be
 * self-contained (no script, no external asset) and the few shapes needed are simpler
 * than server-side rendering a charting library. Pure.
 */

/** One series on a chart. */
export interface ChartSeries {
  name: string;
  values: ReadonlyArray<number | null>;
  color: string;
  kind: 'bar' | 'line';
}

/** A chart: a title, bucket labels and series sharing one y axis from 0. */
export interface ChartSpec {
  /** Names the chart in `data-chart` (tests and styling). */
  id: string;
  title: string;
  /** The bucket starts (ISO), one per value. */
  buckets: readonly string[];
  series: readonly ChartSeries[];
  /** Fixed top of the y axis (1 for rates); else the data's maximum, rounded up. */
  yMax?: number;
  formatY: (value: number) => string;
  /** A dashed reference line (a target). */
  threshold?: { value: number; label: string };
}

const WIDTH = 640;
const HEIGHT = 240;
const PAD = { top: 16, right: 12, bottom: 30, left: 52 };

/** Escapes text for HTML and SVG. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** A "nice" axis top: 1, 2 or 5 times a power of ten, at least the maximum. */
export function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

const fixed = (n: number): string => (Math.round(n * 10) / 10).toString();

/** The chart as an `<svg>` element. */
export function renderChart(spec: ChartSpec): string {
  const n = spec.buckets.length;
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const all = spec.series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const hasData = all.some((v) => v !== 0) || (all.length > 0 && spec.series.some((s) => s.kind === 'line'));
  const top = spec.yMax ?? niceMax(Math.max(0, ...all));
  const x = (i: number): number => PAD.left + (n <= 1 ? plotW / 2 : (i + 0.5) * (plotW / n));
  const y = (v: number): number => PAD.top + plotH - (Math.min(v, top) / top) * plotH;
  const parts: string[] = [];

  // Grid and y labels at 0, half and top.
  for (const fraction of [0, 0.5, 1]) {
    const gy = y(top * fraction);
    parts.push(`<line class="grid" x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${fixed(gy)}" y2="${fixed(gy)}" stroke="#d0d4d9" stroke-width="1"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${fixed(gy + 4)}" text-anchor="end" font-size="11" fill="#555">${escapeXml(spec.formatY(top * fraction))}</text>`);
  }
  // X labels: about six, as UTC hours.
  const every = Math.max(1, Math.ceil(n / 6));
  for (let i = 0; i < n; i += every) {
    const label = (spec.buckets[i] ?? '').slice(11, 16);
    parts.push(`<text x="${fixed(x(i))}" y="${HEIGHT - 10}" text-anchor="middle" font-size="11" fill="#555">${escapeXml(label)}</text>`);
  }

  if (spec.threshold) {
    const ty = fixed(y(spec.threshold.value));
    parts.push(`<line class="threshold" x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${ty}" y2="${ty}" stroke="#8a8f96" stroke-width="1.5" stroke-dasharray="6 4"/>`);
    parts.push(`<text x="${WIDTH - PAD.right - 4}" y="${fixed(y(spec.threshold.value) - 5)}" text-anchor="end" font-size="11" fill="#555">${escapeXml(spec.threshold.label)}</text>`);
  }

  const bars = spec.series.filter((s) => s.kind === 'bar');
  const slot = plotW / Math.max(1, n);
  const barWidth = Math.max(1, (slot * 0.8) / Math.max(1, bars.length));
  bars.forEach((series, b) => {
    series.values.forEach((value, i) => {
      if (value === null || !(value > 0)) return;
      const bx = x(i) - (slot * 0.8) / 2 + b * barWidth;
      const by = y(value);
      parts.push(
        `<rect class="bar" data-series="${escapeXml(series.name)}" x="${fixed(bx)}" y="${fixed(by)}" width="${fixed(barWidth)}" height="${fixed(PAD.top + plotH - by)}" fill="${series.color}"><title>${escapeXml(`${series.name}: ${spec.formatY(value)}`)}</title></rect>`,
      );
    });
  });

  for (const series of spec.series.filter((s) => s.kind === 'line')) {
    // A gap (null) breaks the line; a lone point is drawn as a dot.
    let run: string[] = [];
    const flush = (): void => {
      if (run.length > 1) parts.push(`<polyline class="line" data-series="${escapeXml(series.name)}" points="${run.join(' ')}" fill="none" stroke="${series.color}" stroke-width="3" stroke-linejoin="round"/>`);
      run = [];
    };
    series.values.forEach((value, i) => {
      if (value === null || !Number.isFinite(value)) return flush();
      run.push(`${fixed(x(i))},${fixed(y(value))}`);
      parts.push(`<circle class="dot" data-series="${escapeXml(series.name)}" cx="${fixed(x(i))}" cy="${fixed(y(value))}" r="3.5" fill="${series.color}"><title>${escapeXml(`${series.name}: ${spec.formatY(value)}`)}</title></circle>`);
    });
    flush();
  }

  if (!hasData) {
    parts.push(`<text class="empty" x="${WIDTH / 2}" y="${PAD.top + plotH / 2}" text-anchor="middle" font-size="14" fill="#777">No data in this window</text>`);
  }
  const legend = spec.series
    .map((s) => `<span class="key"><i style="background:${s.color}"></i>${escapeXml(s.name)}</span>`)
    .join(' ');
  return [
    `<figure class="chart" data-chart="${escapeXml(spec.id)}" data-has-data="${hasData}">`,
    `<figcaption>${escapeXml(spec.title)}</figcaption>`,
    `<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%" role="img" aria-label="${escapeXml(spec.title)}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`,
    `<div class="legend">${legend}</div>`,
    `</figure>`,
  ].join('');
}
