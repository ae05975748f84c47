/** The report as a Markdown summary (printed by `npm run report`, stored beside the JSON). Pure. */
import { breakdown, count, duration, hours, millis, percent } from './format.ts';
import type { HealthScore, LatencyStats, MetricsReport } from '../types.ts';

/** How a health score reads in a headline. */
export const HEALTH_LABEL: Record<HealthScore, string> = {
  healthy: 'HEALTHY',
  degraded: 'DEGRADED',
  'no-traffic': 'NO TRAFFIC',
};

const latency = (l: LatencyStats): string =>
  l.samples === 0 ? 'n/a' : `${millis(l.avg)} avg, ${millis(l.p50)} p50, ${millis(l.p95)} p95, ${millis(l.p99)} p99`;

const utc = (iso: string): string => `${iso.slice(0, 16).replace('T', ' ')} UTC`;

const orNone = (counts: Record<string, number>): string => (Object.keys(counts).length === 0 ? 'none' : breakdown(counts, 10));

/** The Markdown summary. */
export function renderMarkdown(report: MetricsReport): string {
  const span = hours(report.window.hours);
  const p = report.prefill;
  const w = report.webhook;
  const c = report.crm;
  const lines: string[] = [
    `# Genesys guest sync: metrics report (${report.stage})`,
    '',
    `**Prefill: ${HEALTH_LABEL[report.health]}** · last ${span}, ${utc(report.window.start)} to ${utc(report.window.end)} · generated ${utc(report.generatedAt)} from ${report.source}`,
    '',
    report.noTraffic ? `No traffic in this window: the report is valid and every figure below is zero.` : '',
    '## Findings',
    '',
    ...report.findings.map((f) => `- **${f.severity}**: ${f.message}`),
    '',
    '## Prefill',
    '',
    `| | last ${span} | last hour |`,
    '| --- | --- | --- |',
    `| attempts | ${count(p.window.attempts)} | ${count(p.lastHour.attempts)} |`,
    `| successes | ${count(p.window.successes)} | ${count(p.lastHour.successes)} |`,
    `| failures | ${count(p.window.failures)} | ${count(p.lastHour.failures)} |`,
    `| session start rate | ${percent(p.window.startRate)} | ${percent(p.lastHour.startRate)} |`,
    `| health | ${p.window.health} | ${p.lastHour.health} |`,
    `| latency | ${latency(p.window.latencyMs)} | ${latency(p.lastHour.latencyMs)} |`,
    '',
    `Failures by reason: ${orNone(p.window.failuresByReason)}.`,
    '',
    '## Webhook events',
    '',
    `| | last ${span} | last hour |`,
    '| --- | --- | --- |',
    `| accepted | ${count(w.window.accepted)} | ${count(w.lastHour.accepted)} |`,
    `| ignored | ${count(w.window.ignored)} | ${count(w.lastHour.ignored)} |`,
    `| rejected | ${count(w.window.rejected)} | ${count(w.lastHour.rejected)} |`,
    '',
    `Rejected by reason: ${orNone(w.window.rejectedByReason)}.`,
    '',
    '## CRM sync',
    '',
    `| | last ${span} | last hour |`,
    '| --- | --- | --- |',
    `| records received | ${count(c.window.received)} | ${count(c.lastHour.received)} |`,
    `| upserted | ${count(c.window.upserted)} | ${count(c.lastHour.upserted)} |`,
    `| coalesced | ${count(c.window.coalesced)} | ${count(c.lastHour.coalesced)} |`,
    `| superseded (older than the CRM's version, not sent) | ${count(c.window.superseded)} | ${count(c.lastHour.superseded)} |`,
    `| chunks already applied (not sent again) | ${count(c.window.chunksReplayed)} | ${count(c.lastHour.chunksReplayed)} |`,
    `| failed permanently | ${count(c.window.failedPermanently)} | ${count(c.lastHour.failedPermanently)} |`,
    `| retried | ${count(c.window.retried)} | ${count(c.lastHour.retried)} |`,
    `| chunks | ${count(c.window.chunks)} | ${count(c.lastHour.chunks)} |`,
    `| chunk latency | ${latency(c.window.chunkLatencyMs)} | ${latency(c.lastHour.chunkLatencyMs)} |`,
    `| breaker openings | ${count(c.window.breakerOpened)} | ${count(c.lastHour.breakerOpened)} |`,
    `| kept in the outbox (SQS did not take them in time) | ${count(c.window.outboxKept)} | ${count(c.lastHour.outboxKept)} |`,
    `| sent from the outbox | ${count(c.window.outboxSent)} | ${count(c.lastHour.outboxSent)} |`,
    '',
    `Upserted by status: ${orNone(c.window.upsertedByStatus)}.`,
    '',
    '## Queue',
    '',
  ];
  const q = report.queue;
  if (q) {
    lines.push(
      `- backlog: ${count(q.backlog)} waiting, ${count(q.inFlight)} in flight; oldest: ${duration(q.oldestAgeSeconds)}`,
      `- DLQ depth: ${q.dlqDepth === null ? 'unknown' : count(q.dlqDepth)}`,
      `- top failure codes${q.failureCodesFrom === 'metrics' ? ' (from the worker\'s metrics)' : ''}: ${q.topFailureCodes.length === 0 ? 'none' : q.topFailureCodes.map((f) => `${f.code} (${count(f.count)})`).join(', ')}`,
    );
  } else {
    lines.push('- the queues could not be read');
  }
  if (report.engagement) {
    const e = report.engagement.window;
    lines.push('', '## Guest engagement', '', `- sessions measured: ${count(e.sessions)}; average duration: ${e.avgDurationMinutes === null ? 'n/a' : `${e.avgDurationMinutes} min`}; conversion rate: ${percent(e.conversionRate)}`);
  }
  lines.push('', `Cold starts: ${count(report.coldStarts)}.`);
  if (report.warnings.length > 0) lines.push('', '## Data notes', '', ...report.warnings.map((note) => `- ${note}`));
  return `${lines.filter((line, i, all) => !(line === '' && all[i - 1] === '')).join('\n').trim()}\n`;
}
