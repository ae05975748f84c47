/**
 * The report as one self-contained HTML page (inline CSS and SVG, no script, no external
 * asset) that reads at a glance on a phone: status first, then findings, charts, tables.
 * Pure.
 */
import { escapeXml, renderChart } from './charts.ts';
import { breakdown, count, duration, hours, millis, percent } from './format.ts';
import { HEALTH_LABEL } from './markdown.ts';
import type { HealthScore, LatencyStats, MetricsReport } from '../types.ts';

/** The colours of the charts' series (each chart's own, so a screenshot can find them). */
export const CHART_COLORS = {
  startRate: '#2e7d32',
  latencyAvg: '#1565c0',
  latencyP95: '#ef6c00',
  upserted: '#00897b',
  failed: '#c62828',
  backlog: '#6a1b9a',
  dlq: '#ad1457',
} as const;

const HEALTH_COLOR: Record<HealthScore, string> = { healthy: '#2e7d32', degraded: '#c62828', 'no-traffic': '#616161' };
const SEVERITY_COLOR = { critical: '#c62828', warning: '#ef6c00', info: '#1565c0' } as const;

const e = escapeXml;
const latency = (l: LatencyStats): string => (l.samples === 0 ? 'n/a' : `${millis(l.avg)} / ${millis(l.p50)} / ${millis(l.p95)} / ${millis(l.p99)}`);
const utc = (iso: string): string => `${iso.slice(0, 16).replace('T', ' ')} UTC`;

function table(title: string, span: string, rows: Array<[string, string, string]>): string {
  return [
    `<section><h2>${e(title)}</h2><div class="scroll"><table><thead><tr><th></th><th>last ${e(span)}</th><th>last hour</th></tr></thead><tbody>`,
    ...rows.map(([label, a, b]) => `<tr><th scope="row">${e(label)}</th><td>${e(a)}</td><td>${e(b)}</td></tr>`),
    '</tbody></table></div></section>',
  ].join('');
}

function card(label: string, value: string, note: string, color?: string): string {
  return `<div class="card"><div class="label">${e(label)}</div><div class="value"${color ? ` style="color:${color}"` : ''}>${e(value)}</div><div class="note">${e(note)}</div></div>`;
}

/** The HTML page. */
export function renderHtml(report: MetricsReport): string {
  const span = hours(report.window.hours);
  const p = report.prefill;
  const w = report.webhook;
  const c = report.crm;
  const q = report.queue;
  const s = report.series;
  const charts = [
    renderChart({
      id: 'prefill-start-rate',
      title: 'Prefill session start rate per hour',
      buckets: s.buckets,
      series: [{ name: 'start rate', values: s.prefillStartRate, color: CHART_COLORS.startRate, kind: 'line' }],
      yMax: 1,
      formatY: (v) => `${Math.round(v * 100)}%`,
      threshold: { value: 0.95, label: 'target 95%' },
    }),
    renderChart({
      id: 'prefill-latency',
      title: 'Prefill latency (ms)',
      buckets: s.buckets,
      series: [
        { name: 'average', values: s.prefillLatencyAvg, color: CHART_COLORS.latencyAvg, kind: 'line' },
        { name: 'p95', values: s.prefillLatencyP95, color: CHART_COLORS.latencyP95, kind: 'line' },
      ],
      formatY: (v) => count(v),
    }),
    renderChart({
      id: 'crm-throughput',
      title: 'CRM records per hour',
      buckets: s.buckets,
      series: [
        { name: 'upserted', values: s.crmUpserted, color: CHART_COLORS.upserted, kind: 'bar' },
        { name: 'failed permanently', values: s.crmFailed, color: CHART_COLORS.failed, kind: 'bar' },
      ],
      formatY: (v) => count(v),
    }),
    renderChart({
      id: 'queue-backlog',
      title: 'Queue backlog and DLQ depth',
      buckets: s.buckets,
      series: [
        { name: 'backlog', values: s.queueBacklog, color: CHART_COLORS.backlog, kind: 'line' },
        { name: 'DLQ', values: s.dlqDepth, color: CHART_COLORS.dlq, kind: 'line' },
      ],
      formatY: (v) => count(v),
    }),
  ];

  const cards = [
    card('Prefill', HEALTH_LABEL[report.health], p.window.attempts === 0 ? 'no attempts' : `${percent(p.window.startRate)} of ${count(p.window.attempts)} attempts`, HEALTH_COLOR[report.health]),
    card('Last hour', percent(p.lastHour.startRate), `${count(p.lastHour.attempts)} attempts`, HEALTH_COLOR[p.lastHour.health]),
    card('CRM upserted', count(c.window.upserted), `${count(c.window.failedPermanently)} failed permanently`),
    card('Queue', q ? count(q.backlog) : 'n/a', q ? `oldest ${duration(q.oldestAgeSeconds)}` : 'unreadable'),
    card('DLQ', q?.dlqDepth === null || !q ? 'n/a' : count(q.dlqDepth), q && q.topFailureCodes[0] ? `top: ${q.topFailureCodes[0].code}` : 'no failure codes', q && (q.dlqDepth ?? 0) > 0 ? SEVERITY_COLOR.critical : undefined),
  ];

  const findings = report.findings
    .map((f) => `<li class="finding" style="border-color:${SEVERITY_COLOR[f.severity]}"><strong style="color:${SEVERITY_COLOR[f.severity]}">${e(f.severity)}</strong> ${e(f.message)}</li>`)
    .join('');

  const sections = [
    table('Prefill', span, [
      ['attempts', count(p.window.attempts), count(p.lastHour.attempts)],
      ['successes', count(p.window.successes), count(p.lastHour.successes)],
      ['failures', count(p.window.failures), count(p.lastHour.failures)],
      ['session start rate', percent(p.window.startRate), percent(p.lastHour.startRate)],
      ['latency avg / p50 / p95 / p99', latency(p.window.latencyMs), latency(p.lastHour.latencyMs)],
      ['failures by reason', breakdown(p.window.failuresByReason, 10) || 'none', breakdown(p.lastHour.failuresByReason, 10) || 'none'],
    ]),
    table('Webhook events', span, [
      ['accepted', count(w.window.accepted), count(w.lastHour.accepted)],
      ['ignored', count(w.window.ignored), count(w.lastHour.ignored)],
      ['rejected', count(w.window.rejected), count(w.lastHour.rejected)],
      ['rejected by reason', breakdown(w.window.rejectedByReason, 10) || 'none', breakdown(w.lastHour.rejectedByReason, 10) || 'none'],
    ]),
    table('CRM sync', span, [
      ['records received', count(c.window.received), count(c.lastHour.received)],
      ['upserted', count(c.window.upserted), count(c.lastHour.upserted)],
      ['upserted by status', breakdown(c.window.upsertedByStatus, 10) || 'none', breakdown(c.lastHour.upsertedByStatus, 10) || 'none'],
      ['coalesced', count(c.window.coalesced), count(c.lastHour.coalesced)],
      ['superseded (older than the CRM\'s version, not sent)', count(c.window.superseded), count(c.lastHour.superseded)],
      ['chunks already applied (not sent again)', count(c.window.chunksReplayed), count(c.lastHour.chunksReplayed)],
      ['failed permanently', count(c.window.failedPermanently), count(c.lastHour.failedPermanently)],
      ['retried', count(c.window.retried), count(c.lastHour.retried)],
      ['chunk latency avg / p50 / p95 / p99', latency(c.window.chunkLatencyMs), latency(c.lastHour.chunkLatencyMs)],
      ['breaker openings', count(c.window.breakerOpened), count(c.lastHour.breakerOpened)],
      ['kept in the outbox', count(c.window.outboxKept), count(c.lastHour.outboxKept)],
      ['sent from the outbox', count(c.window.outboxSent), count(c.lastHour.outboxSent)],
    ]),
  ];
  if (report.engagement) {
    const en = report.engagement;
    sections.push(
      table('Guest engagement', span, [
        ['sessions measured', count(en.window.sessions), count(en.lastHour.sessions)],
        ['average duration', en.window.avgDurationMinutes === null ? 'n/a' : `${en.window.avgDurationMinutes} min`, en.lastHour.avgDurationMinutes === null ? 'n/a' : `${en.lastHour.avgDurationMinutes} min`],
        ['conversion rate', percent(en.window.conversionRate), percent(en.lastHour.conversionRate)],
      ]),
    );
  }
  const queueList = q
    ? `<ul><li>backlog ${e(count(q.backlog))}, ${e(count(q.inFlight))} in flight, oldest ${e(duration(q.oldestAgeSeconds))}</li><li>DLQ depth ${e(q.dlqDepth === null ? 'unknown' : count(q.dlqDepth))}</li><li>top failure codes${q.failureCodesFrom === 'metrics' ? ' (from the worker\'s metrics)' : ''}: ${e(q.topFailureCodes.length === 0 ? 'none' : q.topFailureCodes.map((f) => `${f.code} (${count(f.count)})`).join(', '))}</li></ul>`
    : '<p>The queues could not be read.</p>';
  const notes = report.warnings.length > 0 ? `<section><h2>Data notes</h2><ul>${report.warnings.map((n) => `<li>${e(n)}</li>`).join('')}</ul></section>` : '';

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${e(`Metrics report (${report.stage}): prefill ${HEALTH_LABEL[report.health].toLowerCase()}`)}</title>
<style>
:root { color-scheme: light; }
body { margin: 0; font: 15px/1.45 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #1d2126; background: #f4f6f8; }
main { max-width: 980px; margin: 0 auto; padding: 16px; }
h1 { font-size: 1.3rem; margin: 0 0 4px; }
h2 { font-size: 1.05rem; margin: 24px 0 8px; }
.meta { color: #555; font-size: 0.85rem; margin: 0 0 12px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 10px; }
.card { background: #fff; border-radius: 8px; padding: 10px 12px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
.card .label { font-size: 0.8rem; color: #555; }
.card .value { font-size: 1.45rem; font-weight: 700; }
.card .note { font-size: 0.8rem; color: #555; }
ul.findings { list-style: none; padding: 0; margin: 0; }
.finding { background: #fff; border-left: 5px solid; border-radius: 6px; padding: 8px 12px; margin: 6px 0; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 12px; }
figure.chart { margin: 0; background: #fff; border-radius: 8px; padding: 10px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
figcaption { font-weight: 600; font-size: 0.9rem; margin-bottom: 4px; }
.legend { font-size: 0.8rem; color: #444; }
.key { margin-right: 12px; white-space: nowrap; }
.key i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; background: #fff; border-radius: 8px; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #e3e6ea; font-size: 0.9rem; }
thead th { font-size: 0.8rem; color: #555; }
</style>
</head>
<body>
<main>
<h1>Genesys guest sync: metrics report (${e(report.stage)})</h1>
<p class="meta">Last ${e(span)}: ${e(utc(report.window.start))} to ${e(utc(report.window.end))}. Generated ${e(utc(report.generatedAt))} from ${e(report.source)}.${report.noTraffic ? ' No traffic in this window.' : ''}</p>
<div class="cards">${cards.join('')}</div>
<h2>Findings</h2>
<ul class="findings">${findings}</ul>
<h2>Over the window</h2>
<div class="charts">${charts.join('')}</div>
${sections.join('\n')}
<section><h2>Queue</h2>${queueList}<p>Cold starts in the window: ${e(count(report.coldStarts))}.</p></section>
${notes}
</main>
</body>
</html>
`;
}
