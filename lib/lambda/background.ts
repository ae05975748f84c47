/**
 * The middy stacks for functions that are not behind the HTTP API: SQS consumers and
 * scheduled jobs. Both get the shared logger (with the Lambda context) and metrics.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context, EventBridgeEvent, ScheduledEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { logger, metrics } from '#lib/observability';

/**
 * Wraps an SQS consumer. The handler reports partial failures itself
 * (`batchItemFailures`); an error it throws fails the whole batch, which SQS retries.
 */
export function sqsStack(handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>) {
  return middy<SQSEvent, SQSBatchResponse, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .handler(handler);
}

/** The event a scheduled function receives: EventBridge's, or an on-demand invocation's. */
export type ScheduleEvent = Partial<ScheduledEvent> & Record<string, unknown>;

/** Wraps a scheduled (EventBridge) or on-demand function. */
export function scheduleStack<TResult>(handler: (event: ScheduleEvent, context: Context) => Promise<TResult>) {
  return middy<ScheduleEvent, TResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .handler(handler);
}

/**
 * Wraps a function an EventBridge rule invokes. An error it throws makes EventBridge retry
 * the event under the rule target's retry policy, then send it to the target's DLQ.
 */
export function eventStack<TResult>(handler: (event: EventBridgeEvent<string, unknown>, context: Context) => Promise<TResult>) {
  return middy<EventBridgeEvent<string, unknown>, TResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .handler(handler);
}
