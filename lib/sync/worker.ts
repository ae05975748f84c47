/**
 * The CRM sync worker's wiring: the container's CRM client, DLQ sender, rate limiter and
 * breaker plugged into the batch processor, with the Lambda's remaining time as budget,
 * then the metrics and the batch log line. The handler in functions/ only calls this.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { batchUpsert } from '#lib/crm';
import { sharedSqsClient } from '#lib/jobs';
import { logger, metrics } from '#lib/lambda';
import { breakerState } from './breaker.ts';
import type { SyncWorkerConfig } from './config.ts';
import { sendDeadLetters } from './dead-letter.ts';
import { logBatch, publishBatchMetrics } from './observe.ts';
import { processBatch } from './processor.ts';
import { sharedCrmBreaker, sharedCrmRateLimiter } from './shared.ts';

/** Time kept back from CRM work to dead-letter, report and return before the Lambda timeout. */
export const SAFETY_MARGIN_MS = 1_000;

import { appendFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
const t = (m: string) => appendFileSync('/tmp/smoke/trace.log', `${new Date().toISOString()} t${threadId} ${m}\n`);
const sleep = (ms: number): Promise<void> => { t(`sleep ${ms}`); return new Promise((resolve) => setTimeout(resolve, ms)); };

/**
 * Handles one SQS event. Never throws: a configuration error hands the whole batch back
 * to SQS (logged once at cold start and again here, without message contents).
 */
export async function syncCrmBatch(
  event: SQSEvent,
  context: Pick<Context, 'getRemainingTimeInMillis'>,
  config: () => SyncWorkerConfig,
): Promise<SQSBatchResponse> {
  const records = event.Records ?? [];
  let settings: SyncWorkerConfig;
  try {
    settings = config();
  } catch (error) {
    logger.error('CRM sync worker is misconfigured; the batch goes back to SQS', {
      received: records.length,
      detail: error instanceof Error ? error.message : String(error),
    });
    return { batchItemFailures: records.map((record) => ({ itemIdentifier: record.messageId })) };
  }
  const breaker = sharedCrmBreaker(settings.breakerHalfOpenMs);
  const report = await processBatch(
    records,
    { batchSize: settings.crm.batchSize, maxReceiveCount: settings.maxReceiveCount },
    {
      upsert: async (outgoing, idempotencyKey, timeoutMs) => {
        t(`upsert start ${idempotencyKey.slice(9, 17)} timeout ${timeoutMs}`);
        const o = await batchUpsert({ baseUrl: settings.crm.baseUrl, idempotencyKey, records: outgoing, timeoutMs });
        t(`upsert end ${idempotencyKey.slice(9, 17)} ${o.kind} ${'status' in o ? o.status : ''}`);
        return o;
      },
      deadLetter: (letters) => sendDeadLetters(letters, { queueUrl: settings.dlqUrl, client: sharedSqsClient() }),
      limiter: (() => { const l = sharedCrmRateLimiter(settings.crm.maxRequestsPerSecond); return { perSecond: l.perSecond, pauseFor: (ms: number) => { t(`pause ${ms}`); l.pauseFor(ms); }, acquire: async (w?: number) => { t(`acquire ${w}`); const r = await l.acquire(w); t(`acquired ${r}`); return r; } } as any; })(),
      breaker,
      remainingMs: () => context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS,
      sleep,
    },
  );
  publishBatchMetrics(report, metrics);
  logBatch(report, logger, { breaker: breakerState(breaker) });
  return { batchItemFailures: report.batchItemFailures };
}
