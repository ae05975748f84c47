import { describe, expect, it } from 'vitest';
import { toLocalServiceSpec } from '#local/serverless-config.ts';

/** A resolved service definition, shaped like `osls print --format json` output. */
const resolvedConfig = (): Record<string, unknown> => ({
  service: 'genesys-guest-sync',
  provider: { name: 'aws', stage: 'local' },
  functions: {
    health: {
      handler: 'functions/http/health.handler',
      name: 'genesys-guest-sync-local-health',
      events: [{ httpApi: { method: 'GET', path: '/health' } }],
    },
    crmSync: {
      handler: 'functions/workers/crm-sync.handler',
      events: [
        {
          sqs: {
            arn: { 'Fn::GetAtt': ['CrmSyncQueue', 'Arn'] },
            batchSize: 25,
            maximumBatchingWindow: 5,
            maximumConcurrency: 4,
            functionResponseType: 'ReportBatchItemFailures',
          },
        },
      ],
    },
    metricsReport: {
      handler: 'functions/scheduled/metrics-report.handler',
      name: 'genesys-guest-sync-local-metricsReport',
      events: [
        { schedule: 'rate(1 hour)' },
        { schedule: { rate: ['rate(1 day)', 'cron(0 6 * * ? *)'], enabled: false, input: { period: 'daily' } } },
      ],
    },
  },
  resources: {
    Resources: {
      CrmSyncQueue: {
        Type: 'AWS::SQS::Queue',
        Properties: {
          QueueName: 'genesys-guest-sync-local-crm-sync',
          VisibilityTimeout: 180,
          MessageRetentionPeriod: 1_209_600,
          RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['CrmSyncDlq', 'Arn'] }, maxReceiveCount: 5 },
        },
      },
      CrmSyncDlq: {
        Type: 'AWS::SQS::Queue',
        Properties: { QueueName: 'genesys-guest-sync-local-crm-sync-dlq', MessageRetentionPeriod: 1_209_600 },
      },
      AlarmTopic: { Type: 'AWS::SNS::Topic', Properties: {} },
    },
  },
});

describe('toLocalServiceSpec', () => {
  it('names the service, stage and every function', () => {
    // Act
    const spec = toLocalServiceSpec(resolvedConfig(), 'local');

    // Assess
    expect(spec.service).toBe('genesys-guest-sync');
    expect(spec.stage).toBe('local');
    expect(spec.functionKeys).toEqual(['health', 'crmSync', 'metricsReport']);
  });

  it('reads the sqs event of the worker as the event source mapping needs it', () => {
    // Act
    const spec = toLocalServiceSpec(resolvedConfig(), 'local');

    // Assess
    expect(spec.sqsEventSources).toEqual([
      {
        functionKey: 'crmSync',
        functionName: 'genesys-guest-sync-local-crmSync',
        queueLogicalId: 'CrmSyncQueue',
        batchSize: 25,
        maximumBatchingWindowSeconds: 5,
        maximumConcurrency: 4,
        reportBatchItemFailures: true,
      },
    ]);
  });

  it('applies the Lambda defaults to a bare sqs event referenced with Ref', () => {
    // Prepare
    const config = {
      service: 'svc',
      functions: { worker: { handler: 'w.handler', events: [{ sqs: { arn: { Ref: 'JobsQueue' } } }] } },
    };

    // Act
    const spec = toLocalServiceSpec(config, 'dev');

    // Assess
    expect(spec.sqsEventSources).toEqual([
      {
        functionKey: 'worker',
        functionName: 'svc-dev-worker',
        queueLogicalId: 'JobsQueue',
        batchSize: 10,
        maximumBatchingWindowSeconds: 0,
        maximumConcurrency: 2,
        reportBatchItemFailures: false,
      },
    ]);
  });

  it('reads schedules written as a string and as an object with a rate list', () => {
    // Act
    const spec = toLocalServiceSpec(resolvedConfig(), 'local');

    // Assess
    expect(spec.schedules).toEqual([
      {
        functionKey: 'metricsReport',
        functionName: 'genesys-guest-sync-local-metricsReport',
        expression: 'rate(1 hour)',
        enabled: true,
      },
      {
        functionKey: 'metricsReport',
        functionName: 'genesys-guest-sync-local-metricsReport',
        expression: 'rate(1 day)',
        enabled: false,
        input: { period: 'daily' },
      },
      {
        functionKey: 'metricsReport',
        functionName: 'genesys-guest-sync-local-metricsReport',
        expression: 'cron(0 6 * * ? *)',
        enabled: false,
        input: { period: 'daily' },
      },
    ]);
  });

  it('reads an object schedule with a single rate string, enabled by default', () => {
    // Prepare
    const config = { service: 'svc', functions: { job: { events: [{ schedule: { rate: 'rate(5 minutes)' } }] } } };

    // Act
    const spec = toLocalServiceSpec(config, 'local');

    // Assess
    expect(spec.schedules).toEqual([{ functionKey: 'job', functionName: 'svc-local-job', expression: 'rate(5 minutes)', enabled: true }]);
  });

  it('reads the queues, their redrive policy to the DLQ (Fn::GetAtt) and their defaults', () => {
    // Act
    const spec = toLocalServiceSpec(resolvedConfig(), 'local');

    // Assess
    expect(spec.queues).toEqual({
      CrmSyncQueue: {
        logicalId: 'CrmSyncQueue',
        visibilityTimeoutSeconds: 180,
        retentionSeconds: 1_209_600,
        redrive: { dlqLogicalId: 'CrmSyncDlq', maxReceiveCount: 5 },
      },
      CrmSyncDlq: { logicalId: 'CrmSyncDlq', visibilityTimeoutSeconds: 30, retentionSeconds: 1_209_600 },
    });
  });

  it('defaults a redrive policy without maxReceiveCount to 5, and a queue without settings to SQS defaults', () => {
    // Prepare
    const config = {
      service: 'svc',
      functions: {},
      resources: {
        Resources: {
          Jobs: { Type: 'AWS::SQS::Queue', Properties: { RedrivePolicy: { deadLetterTargetArn: { Ref: 'JobsDlq' } } } },
          JobsDlq: { Type: 'AWS::SQS::Queue' },
        },
      },
    };

    // Act
    const spec = toLocalServiceSpec(config, 'local');

    // Assess
    expect(spec.queues['Jobs']).toEqual({
      logicalId: 'Jobs',
      visibilityTimeoutSeconds: 30,
      retentionSeconds: 345_600,
      redrive: { dlqLogicalId: 'JobsDlq', maxReceiveCount: 5 },
    });
    expect(spec.queues['JobsDlq']).toEqual({ logicalId: 'JobsDlq', visibilityTimeoutSeconds: 30, retentionSeconds: 345_600 });
  });

  it('ignores resources that are not queues, and events it does not emulate', () => {
    // Act
    const spec = toLocalServiceSpec(resolvedConfig(), 'local');

    // Assess
    expect(Object.keys(spec.queues)).not.toContain('AlarmTopic');
    expect(spec.sqsEventSources.map((s) => s.functionKey)).not.toContain('health');
    expect(spec.schedules.map((s) => s.functionKey)).not.toContain('health');
  });

  it('copes with a service that has no functions or resources', () => {
    // Act
    const spec = toLocalServiceSpec({ service: 'empty' }, 'local');

    // Assess
    expect(spec).toEqual({ service: 'empty', stage: 'local', functionKeys: [], sqsEventSources: [], schedules: [], queues: {}, tables: {}, eventRules: [] });
  });

  it('reads an eventBridge rule: the bus behind Fn::GetAtt, the pattern as written, the retry policies and the dead-letter queues', () => {
    // Prepare
    const config = {
      service: 'svc',
      functions: {
        genesysEvents: {
          name: 'svc-local-genesysEvents',
          maximumRetryAttempts: 1,
          maximumEventAge: 600,
          destinations: { onFailure: { type: 'sqs', arn: { 'Fn::GetAtt': ['EventsDlq', 'Arn'] } } },
          events: [
            {
              eventBridge: {
                name: 'svc-local-genesys-events',
                eventBus: { 'Fn::GetAtt': ['Bus', 'Name'] },
                pattern: { 'detail-type': ['v2.detail.events.conversation.{id}.attributes'] },
                retryPolicy: { maximumEventAge: 3600, maximumRetryAttempts: 10 },
                deadLetterQueueArn: { 'Fn::GetAtt': ['EventsDlq', 'Arn'] },
              },
            },
            { eventBridge: { schedule: 'rate(1 hour)' } },
          ],
        },
      },
      resources: {
        Resources: {
          Bus: { Type: 'AWS::Events::EventBus', Properties: { Name: 'aws.partner/genesys.com/cloud/org/s', EventSourceName: 'aws.partner/genesys.com/cloud/org/s' } },
          EventsDlq: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'svc-local-genesys-events-dlq' } },
        },
      },
    };

    // Act
    const spec = toLocalServiceSpec(config, 'local');

    // Assess
    expect(spec.eventRules).toEqual([
      {
        functionKey: 'genesysEvents',
        functionName: 'svc-local-genesysEvents',
        ruleName: 'svc-local-genesys-events',
        eventBusName: 'aws.partner/genesys.com/cloud/org/s',
        pattern: { 'detail-type': ['v2.detail.events.conversation.{id}.attributes'] },
        maximumEventAgeSeconds: 3600,
        maximumRetryAttempts: 10,
        dlq: { logicalId: 'EventsDlq', queueName: 'svc-local-genesys-events-dlq' },
        functionRetryAttempts: 1,
        functionMaximumEventAgeSeconds: 600,
        onFailure: { logicalId: 'EventsDlq', queueName: 'svc-local-genesys-events-dlq' },
      },
    ]);
  });
});
