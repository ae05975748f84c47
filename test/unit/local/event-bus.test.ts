/**
 * The local event bus (docs/api.md section 9), driven with the real EventBridge client: it
 * takes PutEvents for its bus, delivers what the rule's pattern matches to the function
 * through the invoke path, retries failures with backoff, and dead-letters in the embedded
 * SQS with the reason, as EventBridge and Lambda's asynchronous invocation do.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { matchesPattern, startLocalEventBus, type EventBridgeEnvelope, type LocalEventBus } from '#local/event-bus.ts';
import type { InvokeResult } from '#local/lambda-invoke.ts';
import type { EventRuleSpec } from '#local/serverless-config.ts';
import { startEmbeddedSqs, type EmbeddedSqs } from '#local/sqs.ts';

const BUS = 'aws.partner/genesys.com/cloud/6a3b1c2d-0e4f-4a5b-8c6d-7e8f9a0b1c2d/guest-sync-local';
const TOPICS = ['customer.start', 'attributes', 'customer.end'].map((topic) => `v2.detail.events.conversation.{id}.${topic}`);

const rule: EventRuleSpec = {
  functionKey: 'genesysEvents',
  functionName: 'svc-local-genesysEvents',
  ruleName: 'svc-local-genesys-events',
  eventBusName: BUS,
  pattern: { 'detail-type': TOPICS },
  maximumEventAgeSeconds: 3600,
  maximumRetryAttempts: 3,
  dlq: { logicalId: 'GenesysEventsDlq', queueName: 'svc-local-genesys-events-dlq' },
  functionRetryAttempts: 2,
  functionMaximumEventAgeSeconds: 3600,
  onFailure: { logicalId: 'GenesysEventsDlq', queueName: 'svc-local-genesys-events-dlq' },
};

const entry = (detailType: string, detail: Record<string, unknown> = { topicName: 'v2.detail.events.conversation.c1.attributes', eventBody: {} }) => ({
  EventBusName: BUS,
  Source: BUS,
  DetailType: detailType,
  Detail: JSON.stringify(detail),
});

describe('the local event bus', () => {
  let sqs: EmbeddedSqs;
  let bus: LocalEventBus;
  let client: EventBridgeClient;
  let invocations: EventBridgeEnvelope[];
  let answer: (attempt: number) => InvokeResult<unknown>;

  beforeEach(async () => {
    sqs = await startEmbeddedSqs({ queueName: 'q', dlqName: 'q-dlq', visibilityTimeoutSeconds: 30, maxReceiveCount: 5, dlqRetentionSeconds: 600 });
    invocations = [];
    answer = () => ({ ok: true, payload: { outcome: 'applied' } });
    bus = await startLocalEventBus({
      port: 0,
      eventBusName: BUS,
      rules: [rule],
      invoke: async (_name, event) => {
        invocations.push(event);
        return answer(invocations.length);
      },
      sqs: sqs.client,
      account: '123456789012',
      region: 'eu-west-1',
      baseDelayMs: 5,
      maxDelayMs: 20,
    });
    client = new EventBridgeClient({ endpoint: bus.url, region: 'eu-west-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  });

  afterEach(async () => {
    client.destroy();
    await bus.close();
    await sqs.close();
  });

  const deadLetters = async () => {
    const { Messages = [] } = await sqs.client.send(
      new ReceiveMessageCommand({ QueueUrl: bus.dlqUrls['GenesysEventsDlq'], MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }),
    );
    return Messages;
  };

  it('takes PutEvents from the EventBridge client and delivers a matching event once, in the EventBridge envelope', async () => {
    // Act
    const answerOf = await client.send(new PutEventsCommand({ Entries: [entry(TOPICS[1]!)] }));
    await bus.settled();

    // Assess
    expect(answerOf.FailedEntryCount).toBe(0);
    expect(invocations).toHaveLength(1);
    expect(invocations[0]).toMatchObject({
      version: '0',
      id: answerOf.Entries?.[0]?.EventId,
      'detail-type': TOPICS[1],
      source: BUS,
      account: '123456789012',
      region: 'eu-west-1',
      resources: [],
      detail: { topicName: 'v2.detail.events.conversation.c1.attributes' },
    });
    expect(invocations[0]?.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  });

  it('delivers nothing the pattern does not match, and refuses entries for another bus or with a malformed detail', async () => {
    // Act
    const answerOf = await client.send(
      new PutEventsCommand({
        Entries: [
          entry('v2.detail.events.conversation.{id}.acw'),
          { ...entry(TOPICS[0]!), EventBusName: 'default' },
          { ...entry(TOPICS[0]!), Detail: '{not json' },
        ],
      }),
    );
    await bus.settled();

    // Assess
    expect(invocations).toHaveLength(0);
    expect(answerOf.FailedEntryCount).toBe(2);
    expect(answerOf.Entries?.map((e) => e.ErrorCode)).toEqual([undefined, 'ResourceNotFoundException', 'MalformedDetail']);
  });

  it('retries an event the function failed on, and delivers it once the function takes it', async () => {
    // Prepare
    answer = (attempt) => (attempt === 1 ? { ok: false, payload: undefined, error: 'PATCH answered 503', functionError: 'Unhandled' } : { ok: true, payload: {} });

    // Act
    await client.send(new PutEventsCommand({ Entries: [entry(TOPICS[0]!)] }));
    await bus.settled();

    // Assess
    expect(invocations).toHaveLength(2);
    expect(invocations[1]?.id).toBe(invocations[0]?.id);
    expect(bus.stats()).toMatchObject({ delivered: 1, retried: 1, deadLettered: 0 });
    expect(await (await fetch(`${bus.url}/__local/stats`)).json()).toMatchObject({ received: 1, delivered: 1, retried: 1, inFlight: 0 });
    expect(await deadLetters()).toHaveLength(0);
  });

  it('after the function failed on every retry, puts the event in the DLQ with the reason', async () => {
    // Prepare
    answer = () => ({ ok: false, payload: undefined, error: 'svc-local-genesysEvents failed (Unhandled): PATCH answered 503', functionError: 'Unhandled' });

    // Act
    await client.send(new PutEventsCommand({ Entries: [entry(TOPICS[1]!)] }));
    await bus.settled();

    // Assess
    expect(invocations).toHaveLength(3); // the first attempt and Lambda's two asynchronous retries
    const [letter, ...more] = await deadLetters();
    expect(more).toHaveLength(0);
    const record = JSON.parse(letter?.Body ?? '{}');
    expect(record).toMatchObject({
      requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 3 },
      requestPayload: { id: invocations[0]?.id, 'detail-type': TOPICS[1] },
      responseContext: { functionError: 'Unhandled' },
      responsePayload: { errorMessage: expect.stringContaining('PATCH answered 503') },
    });
    expect(letter?.MessageAttributes?.['ERROR_CODE']?.StringValue).toBe('FunctionError');
    expect(letter?.MessageAttributes?.['ERROR_MESSAGE']?.StringValue).toContain('PATCH answered 503');
  });

  it("retries a failed delivery under the rule's retry policy, then dead-letters the event as EventBridge does", async () => {
    // Prepare
    answer = () => ({ ok: false, payload: undefined, error: 'connect ECONNREFUSED 127.0.0.1:3002' });

    // Act
    await client.send(new PutEventsCommand({ Entries: [entry(TOPICS[2]!)] }));
    await bus.settled();

    // Assess
    expect(invocations).toHaveLength(4); // the first attempt and the rule's 3 retries
    const [letter] = await deadLetters();
    expect(JSON.parse(letter?.Body ?? '{}')).toMatchObject({ 'detail-type': TOPICS[2], source: BUS });
    expect(letter?.MessageAttributes?.['ERROR_CODE']?.StringValue).toBe('SDK_CLIENT_ERROR');
    expect(letter?.MessageAttributes?.['EXHAUSTED_RETRY_CONDITION']?.StringValue).toBe('MaximumRetryAttempts');
    expect(letter?.MessageAttributes?.['RULE_ARN']?.StringValue).toBe(`arn:aws:events:eu-west-1:123456789012:rule/${BUS}/svc-local-genesys-events`);
  });

  it('refuses a pattern operator it cannot match as EventBridge would, at start', async () => {
    await expect(
      startLocalEventBus({ port: 0, eventBusName: BUS, rules: [{ ...rule, pattern: { detail: { n: [{ numeric: ['>', 1] }] } } }], invoke: async () => ({ ok: true, payload: undefined }), sqs: sqs.client }),
    ).rejects.toThrow(/operator the local event bus does not support/);
  });
});

describe('matchesPattern', () => {
  const event = { 'detail-type': 'v2.detail.events.conversation.{id}.attributes', source: 'aws.partner/genesys.com/cloud/o/s', detail: { tags: ['a', 'b'], n: 1 } };

  it.each<[string, Record<string, unknown>, boolean]>([
    ['a literal {id} in detail-type', { 'detail-type': ['v2.detail.events.conversation.{id}.attributes'] }, true],
    ['the real id instead of {id}', { 'detail-type': ['v2.detail.events.conversation.c1.attributes'] }, false],
    ['a prefix', { source: [{ prefix: 'aws.partner/genesys.com' }] }, true],
    ['a nested field and an array element', { detail: { tags: ['b'] } }, true],
    ['a missing field', { detail: { absent: ['x'] } }, false],
    ['exists: false', { detail: { absent: [{ exists: false }] } }, true],
    ['anything-but', { detail: { n: [{ 'anything-but': [1] }] } }, false],
    ['$or', { $or: [{ source: ['x'] }, { detail: { n: [1] } }] }, true],
  ])('%s', (_case, pattern, expected) => {
    expect(matchesPattern(pattern, event)).toBe(expected);
  });
});
