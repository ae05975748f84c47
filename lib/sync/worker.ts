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

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

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
      upsert: (outgoing, idempotencyKey, timeoutMs) =>
        batchUpsert({ baseUrl: settings.crm.baseUrl, idempotencyKey, records: outgoing, timeoutMs }),
      deadLetter: (letters) =>
        sendDeadLetters(letters, {
          queueUrl: settings.dlqUrl,
          client: sharedSqsClient(),
          // What is left of the invocation, less a moment to answer: unsent letters go back to SQS.
          timeoutMs: Math.max(200, context.getRemainingTimeInMillis() - 300),
        }),
      limiter: sharedCrmRateLimiter(settings.crm.maxRequestsPerSecond),
      breaker,
      remainingMs: () => context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS,
      sleep,
    },
  );
  publishBatchMetrics(report, metrics);
  logBatch(report, logger, { breaker: breakerState(breaker) });
  return { batchItemFailures: report.batchItemFailures };
}
