import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { scheduleStack, sqsStack } from '#lib/lambda';
import type { ScheduleEvent } from '#lib/lambda/background.ts';
import { logger } from '#lib/observability';
import { captureOutput, lambdaContext } from '#test/support/lambda.ts';
import type { CapturedOutput } from '#test/support/lambda.ts';
import { eventBridgeEvent, sqsEvent, sqsRecord } from '#test/support/factories.ts';

/** The event EventBridge delivers for a schedule. */
const scheduledEvent = (): ScheduleEvent => ({
  ...eventBridgeEvent({
    id: 'f6a1c2d3-0000-4000-8000-000000000001',
    detailType: 'Scheduled Event' as const,
    source: 'aws.events',
    time: '2025-01-15T10:00:00Z',
    resources: ['arn:aws:events:eu-west-1:123456789012:rule/metrics-report'],
    detail: {},
  }),
});

let output: CapturedOutput;
beforeEach(() => {
  output = captureOutput();
});
afterEach(() => {
  output.restore();
});

describe('sqsStack', () => {
  it('hands the handler the SQS event and context, and returns its batch response as is', async () => {
    // Prepare
    const seen: { event: SQSEvent; context: Context }[] = [];
    const response: SQSBatchResponse = { batchItemFailures: [{ itemIdentifier: 'message-2' }] };
    const handler = sqsStack(async (event, context) => {
      seen.push({ event, context });
      return response;
    });
    const event = sqsEvent(sqsRecord({ jobId: 'job-1' }, 'message-1'), sqsRecord({ jobId: 'job-2' }, 'message-2'));
    const context = lambdaContext();

    // Act
    const result = await handler(event, context);

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'message-2' }] });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.event.Records.map((r) => r.messageId)).toEqual(['message-1', 'message-2']);
    expect(seen[0]?.context.awsRequestId).toBe(context.awsRequestId);
  });

  it('returns an empty failure list untouched (the whole batch succeeded)', async () => {
    // Prepare
    const handler = sqsStack(async () => ({ batchItemFailures: [] }));

    // Act
    const result = await handler(sqsEvent(sqsRecord({})), lambdaContext());

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
  });

  it('lets a thrown error fail the whole batch, so SQS retries every message', async () => {
    // Prepare
    const handler = sqsStack(async () => {
      throw new Error('CRM unreachable');
    });

    // Act
    const result = handler(sqsEvent(sqsRecord({})), lambdaContext());

    // Assess
    await expect(result).rejects.toThrow('CRM unreachable');
  });

  it('logs with the Lambda context, and forgets keys appended in an earlier invocation', async () => {
    // Prepare
    let invocation = 0;
    const handler = sqsStack(async () => {
      invocation += 1;
      if (invocation === 1) logger.appendKeys({ chunkKey: 'chunk-1' });
      logger.info(`Batch ${invocation}`);
      return { batchItemFailures: [] };
    });

    // Act
    await handler(sqsEvent(sqsRecord({})), lambdaContext({ awsRequestId: 'invocation-1' }));
    await handler(sqsEvent(sqsRecord({})), lambdaContext({ awsRequestId: 'invocation-2' }));

    // Assess
    expect(output.logged('Batch 1')[0]).toMatchObject({ function_request_id: 'invocation-1', chunkKey: 'chunk-1' });
    expect(output.logged('Batch 2')[0]).toMatchObject({ function_request_id: 'invocation-2' });
    expect(output.logged('Batch 2')[0]).not.toHaveProperty('chunkKey');
  });
});

describe('scheduleStack', () => {
  it('hands the handler the EventBridge event and returns its result as is', async () => {
    // Prepare
    const seen: ScheduleEvent[] = [];
    const report = { period: '2025-01-15', sessions: 42, conversions: 3 };
    const handler = scheduleStack(async (event) => {
      seen.push(event);
      return report;
    });

    // Act
    const result = await handler(scheduledEvent(), lambdaContext());

    // Assess
    expect(result).toBe(report);
    expect(seen[0]?.['detail-type']).toBe('Scheduled Event');
  });

  it('accepts an on-demand invocation with a custom payload', async () => {
    // Prepare
    const handler = scheduleStack(async (event) => ({ echoed: event['from'] }));

    // Act
    const result = await handler({ from: '2025-01-01', to: '2025-01-31' }, lambdaContext());

    // Assess
    expect(result).toEqual({ echoed: '2025-01-01' });
  });

  it('passes an undefined result through', async () => {
    // Prepare
    const handler = scheduleStack(async () => undefined);

    // Act
    const result = await handler(scheduledEvent(), lambdaContext());

    // Assess
    expect(result).toBeUndefined();
  });

  it('lets a thrown error fail the invocation, so EventBridge retries it', async () => {
    // Prepare
    const handler = scheduleStack(async () => {
      throw new Error('audit query failed');
    });

    // Act
    const result = handler(scheduledEvent(), lambdaContext());

    // Assess
    await expect(result).rejects.toThrow('audit query failed');
  });

  it('logs with the Lambda context', async () => {
    // Prepare
    const handler = scheduleStack(async () => {
      logger.info('Report built');
      return 'ok';
    });

    // Act
    await handler(scheduledEvent(), lambdaContext({ functionName: 'genesys-guest-sync-prod-metricsReport' }));

    // Assess
    expect(output.logged('Report built')[0]).toMatchObject({ function_name: 'genesys-guest-sync-prod-metricsReport' });
  });
});
