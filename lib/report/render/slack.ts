/** The summary posted to REPORT_WEBHOOK_URL: Slack-compatible JSON (`text`, mrkdwn). Pure. */
import { count, hours, percent } from './format.ts';
import { HEALTH_LABEL } from './markdown.ts';
import type { MetricsReport } from '../types.ts';

/** The webhook body; `links` name where the full report was stored, if anywhere. */
export function renderSlack(report: MetricsReport, links: readonly string[] = []): { text: string } {
  const p = report.prefill.window;
  const headline = `*Genesys guest sync (${report.stage})*: prefill *${HEALTH_LABEL[report.health]}*, ${
    p.attempts === 0 ? 'no attempts' : `${percent(p.startRate)} of ${count(p.attempts)} attempts`
  } in the last ${hours(report.window.hours)}; CRM ${count(report.crm.window.upserted)} upserted, ${count(report.crm.window.failedPermanently)} failed; DLQ ${
    report.queue?.dlqDepth === null || report.queue === null ? 'unknown' : count(report.queue.dlqDepth)
  }.`;
  const findings = report.findings.slice(0, 6).map((f) => `• [${f.severity}] ${f.message}`);
  const where = links.length > 0 ? [`Full report: ${links.join(' ')}`] : [];
  return { text: [headline, ...findings, ...where].join('\n') };
}
