/**
 * The outbox sweep: sends the jobs that are due to SQS, removes those SQS took, and
 * schedules the others for a later attempt. Runs on a schedule (every minute) until the
 * outbox is empty; a job leaves the outbox only once it is on the queue.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logger, MetricNames, metrics } from '#lib/observability';
import type { Outbox, OutboxItem } from './outbox.ts';
import { sendMessages } from './producer.ts';

/** The most one round's SQS sends may take (a stalled SQS costs a round this, not the whole run). */
const SWEEP_SEND_BUDGET_MS = 8_000;

/** What one sweep did. */
export interface SweepReport {
  due: number;
  sent: number;
  deferred: number;
  /** Items SQS took but that could not be removed yet (sent again next time: same job id). */
  unremoved: number;
}

/** How one sweep runs. */
export interface SweepOptions {
  queueUrl: string;
  client?: SQSClient;
  /** Time this sweep may take in all. */
  budgetMs: number;
  /** Jobs read per round (default 100); rounds repeat while time remains and jobs are due. */
  limit?: number;
  now?: () => number;
}

/** Sends every due job within the budget; never throws for one job's failure. */
export async function sweepOutbox(outbox: Outbox, options: SweepOptions): Promise<SweepReport> {
  const now = options.now ?? Date.now;
  const end = now() + options.budgetMs;
  const report: SweepReport = { due: 0, sent: 0, deferred: 0, unremoved: 0 };
  const seen = new Set<string>();
  while (end - now() > 1_000) {
    const due = (await outbox.due(options.limit ?? 100)).filter((item) => !seen.has(item.pk));
    if (due.length === 0) break;
    due.forEach((item) => seen.add(item.pk));
    report.due += due.length;
    const result = await sendMessages(due, {
      queueUrl: options.queueUrl,
      budgetMs: Math.max(100, Math.min(SWEEP_SEND_BUDGET_MS, (end - now()) / 2)),
      now,
      ...(options.client ? { client: options.client } : {}),
    });
    const settled = await Promise.allSettled(
      due.map((item: OutboxItem) =>
        result.messageIds.has(item.jobId) ? outbox.sent(item) : outbox.retryLater(item, result.reason ?? 'not sent'),
      ),
    );
    due.forEach((item, index) => {
      const sent = result.messageIds.has(item.jobId);
      if (sent) report.sent += 1;
      else report.deferred += 1;
      if (sent && settled[index]?.status === 'rejected') report.unremoved += 1;
    });
    if (result.unsent.length > 0) break;
  }
  return report;
}

/** What the scheduled sweep needs: the outbox, where its jobs go, and the time it has. */
export type SweepDependencies = SweepOptions & { outbox: Outbox };

/** The scheduled sweep's one call: sweeps, counts what was sent and deferred, and logs a sweep that found work. */
export async function runOutboxSweep(deps: SweepDependencies): Promise<SweepReport> {
  const { outbox, ...options } = deps;
  const report = await sweepOutbox(outbox, options);
  metrics.addMetric(MetricNames.OutboxSent, MetricUnit.Count, report.sent);
  metrics.addMetric(MetricNames.OutboxDeferred, MetricUnit.Count, report.deferred);
  if (report.due > 0) logger.info('Outbox sweep', { ...report });
  return report;
}
