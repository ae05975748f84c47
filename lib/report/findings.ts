/**
 * The findings: what a contact-center or integration owner should know or do, in plain
 * words, derived from the report's figures. Pure.
 */
import { breakdown, count, duration, hours, millis, percent } from './render/format.ts';
import type { Finding, MetricsReport } from './types.ts';

/** Above this p95, prefill is called slow (a guest waits for the first message). */
export const PREFILL_P95_TARGET_MS = 2000;
/** A job older than this means the worker is behind or stopped. */
export const QUEUE_AGE_TARGET_SECONDS = 900;

/** What each prefill failure reason means and what to do about it. */
const PREFILL_ADVICE: Record<string, string> = {
  validation: 'callers sent attributes the suite refuses (bad keys, nested values): check the website\'s prefill payload',
  too_large: 'payloads exceeded 10,240 bytes after masking: send fewer or shorter attributes',
  not_found: 'sessions were unknown or expired when prefilled: prefill right after the session starts',
  throttled: 'Genesys rate-limited the suite (429): spread the load or ask Genesys for a higher limit',
  upstream: 'Genesys failed or timed out: check the Genesys Cloud status page and the function logs',
  enqueue: 'the CRM sync queue refused jobs: check SQS and the function logs',
};

/** What each webhook rejection reason means. */
const WEBHOOK_ADVICE: Record<string, string> = {
  signature: 'the signature did not match: make sure the webhook secret in Genesys is the current signing secret',
  stale: 'events arrived more than 5 minutes late or from a skewed clock',
  malformed: 'bodies were not valid webhook events',
  enqueue: 'the CRM sync queue refused jobs: check SQS',
};

const SEVERITY_ORDER: Record<Finding['severity'], number> = { critical: 0, warning: 1, info: 2 };

const topReason = (counts: Record<string, number>): string | undefined => Object.keys(counts)[0];

/** The findings for a report, most severe first. */
export function findingsFor(report: MetricsReport): Finding[] {
  const findings: Finding[] = [];
  const span = hours(report.window.hours);
  const prefill = report.prefill.window;
  const lastHour = report.prefill.lastHour;

  if (report.noTraffic) {
    findings.push({
      severity: 'info',
      code: 'no-traffic',
      message: `No traffic in the last ${span}: no prefill attempts, webhook events or CRM records. If the website is live, check that it calls the prefill route and that Genesys webhooks point at this stage.`,
    });
  }

  if (prefill.health === 'degraded') {
    const reason = topReason(prefill.failuresByReason);
    const advice = reason ? ` Most failures: ${breakdown(prefill.failuresByReason)}; ${PREFILL_ADVICE[reason] ?? 'see the function logs'}.` : '';
    findings.push({
      severity: 'critical',
      code: 'prefill-degraded',
      message: `Prefill start rate is ${percent(prefill.startRate)} (${count(prefill.successes)} of ${count(prefill.attempts)} attempts) over the last ${span}, below the 95% target.${advice}`,
    });
  } else if (lastHour.health === 'degraded') {
    const reason = topReason(lastHour.failuresByReason);
    findings.push({
      severity: 'warning',
      code: 'prefill-degraded-last-hour',
      message: `Prefill start rate dropped to ${percent(lastHour.startRate)} in the last hour (${count(lastHour.successes)} of ${count(lastHour.attempts)}).${reason ? ` Most failures: ${breakdown(lastHour.failuresByReason)}; ${PREFILL_ADVICE[reason] ?? 'see the function logs'}.` : ''}`,
    });
  }

  if (prefill.latencyMs.p95 !== null && prefill.latencyMs.p95 > PREFILL_P95_TARGET_MS) {
    findings.push({
      severity: 'warning',
      code: 'prefill-slow',
      message: `Prefill is slow: p95 ${millis(prefill.latencyMs.p95)} (target under ${millis(PREFILL_P95_TARGET_MS)}). Genesys may be retrying on 429s or answering slowly.`,
    });
  }

  const webhook = report.webhook.window;
  if (webhook.rejected > 0) {
    const reason = topReason(webhook.rejectedByReason);
    findings.push({
      severity: 'warning',
      code: 'webhook-rejected',
      message: `${count(webhook.rejected)} webhook event(s) were rejected in the last ${span}${reason ? `: ${breakdown(webhook.rejectedByReason)}; ${WEBHOOK_ADVICE[reason] ?? 'see the function logs'}` : ''}.`,
    });
  }

  const queue = report.queue;
  if (queue && queue.dlqDepth !== null && queue.dlqDepth > 0) {
    const top = queue.topFailureCodes[0];
    const codes =
      top && queue.failureCodesFrom === 'dlq-messages'
        ? `, ${count(top.count)} with ${top.code}`
        : top
          ? ` (recent permanent failures: ${queue.topFailureCodes.slice(0, 3).map((c) => `${c.code} ${count(c.count)}`).join(', ')})`
          : '';
    findings.push({
      severity: 'critical',
      code: 'dlq-not-empty',
      message: `DLQ holds ${count(queue.dlqDepth)} record(s)${codes}: inspect with npm run dlq:inspect, fix the cause, then redrive with npm run dlq:redrive.`,
    });
  } else if (report.crm.window.failedPermanently > 0) {
    findings.push({
      severity: 'warning',
      code: 'crm-permanent-failures',
      message: `${count(report.crm.window.failedPermanently)} CRM record(s) failed permanently in the last ${span}${Object.keys(report.crm.window.failedByCode).length > 0 ? ` (${breakdown(report.crm.window.failedByCode)})` : ''}; the DLQ is empty now, so they were redriven or removed.`,
    });
  }

  if (queue && queue.oldestAgeSeconds !== null && queue.oldestAgeSeconds > QUEUE_AGE_TARGET_SECONDS) {
    findings.push({
      severity: 'warning',
      code: 'queue-behind',
      message: `The oldest CRM sync job has waited ${duration(queue.oldestAgeSeconds)} (backlog ${count(queue.backlog)}): the worker is behind or stopped. Check the worker's errors and the CRM's health.`,
    });
  }

  if (report.crm.window.breakerOpened > 0) {
    findings.push({
      severity: 'warning',
      code: 'crm-breaker-opened',
      message: `The CRM circuit breaker opened ${count(report.crm.window.breakerOpened)} time(s) in the last ${span}: the CRM was failing, so the worker paused its calls and SQS retried the jobs. Check the CRM's health.`,
    });
  }

  const waiting = report.crm.window.outboxKept - report.crm.window.outboxSent;
  if (report.crm.window.outboxKept > 0) {
    findings.push({
      severity: waiting > 0 ? 'warning' : 'info',
      code: 'outbox-used',
      message:
        `${count(report.crm.window.outboxKept)} CRM sync job(s) were kept in the outbox in the last ${span} because SQS did not take them in time; ` +
        `the sweep sent ${count(report.crm.window.outboxSent)}` +
        (waiting > 0 ? `, so about ${count(waiting)} may still be waiting: check SQS's health and the outboxSweep function's errors.` : '.'),
    });
  }

  if (report.warnings.length > 0) {
    findings.push({
      severity: 'info',
      code: 'partial-data',
      message: `Some figures may be incomplete: ${report.warnings[0]}${report.warnings.length > 1 ? ` (and ${report.warnings.length - 1} more note(s) below)` : ''}`,
    });
  }

  if (!findings.some((f) => f.severity !== 'info') && !report.noTraffic) {
    const prefillPart = prefill.attempts > 0 ? `Prefill is healthy (${percent(prefill.startRate)} of ${count(prefill.attempts)} attempts)` : 'No prefill attempts';
    const queuePart = queue ? `; the CRM is in sync (backlog ${count(queue.backlog)}, DLQ ${count(queue.dlqDepth ?? 0)})` : '';
    findings.push({ severity: 'info', code: 'all-clear', message: `${prefillPart}${queuePart}. Nothing to do.` });
  }

  return findings.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
}
