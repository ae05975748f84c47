/**
 * Genesys conversation events on the local stack (docs/api.md sections 3 and 9): a prefill,
 * then the guest's first message through the Messenger simulator. The sandbox
 * Genesys publishes its conversations' events to the local event bus, which invokes the
 * events function as the EventBridge rule of serverless.yml would. A guest who alters a
 * prepared attribute in the browser ends with the prepared value, one CRM record, and no
 * loop; a PATCH Genesys keeps refusing ends in the events' dead-letter queue with the reason.
 */
import { randomUUID } from 'node:crypto';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { beforeEach, describe, expect, it } from 'vitest';
import { localSqsClient } from '#local/sqs.ts';
import { addFaults, crmState, genesysState, machineToken, resetSandboxes, stack, until } from '#test/support/stack.ts';

const PREPARED = { customerId: 'C-7001', loyaltyTier: 'gold' };

interface Started {
  conversationId: string;
  customerParticipantId: string;
}

/** Prefills a session (machine JWT); returns what the page passes to Database.set. */
async function prefill(sessionId: string): Promise<Record<string, string>> {
  const response = await fetch(`${stack().apiUrl}/sessions/${sessionId}/prefill`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await machineToken('guest-sync/write')}` },
    body: JSON.stringify({ attributes: PREPARED }),
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { applied: string; customAttributes: Record<string, string> };
  expect(body.applied).toBe('pending');
  expect(body.customAttributes['gsRef']).toMatch(/^[A-Za-z0-9_-]{24}$/);
  return body.customAttributes;
}

/** The guest's first message through the Messenger simulator, with the attributes the browser holds. */
const firstMessage = async (customAttributes: Record<string, string>): Promise<Started> => {
  const response = await fetch(`${stack().genesysUrl}/__sandbox/messenger/conversations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customAttributes }),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as Started;
};

const conversation = async (id: string): Promise<Record<string, any>> => (await genesysState()).conversations[id];
const patchesOf = async (id: string): Promise<Array<{ status: number }>> =>
  ((await genesysState()).requests as Array<{ operation: string; path: string; status: number }>).filter(
    (r) => r.operation === 'patchConversationParticipantAttributes' && r.path.includes(id),
  );
const eventsOf = async (id: string): Promise<string[]> =>
  ((await genesysState()).events as Array<{ 'detail-type': string; detail: { topicName: string } }>)
    .filter((e) => e.detail.topicName.includes(id))
    .map((e) => e['detail-type'].split('{id}.')[1] as string);

beforeEach(async () => {
  await resetSandboxes();
});

describe('Genesys conversation events through the local event bus', () => {
  it('ends with the participant holding the prepared value after the browser altered it, one CRM record, and no loop', async () => {
    // Prepare
    const sessionId = randomUUID();
    const customAttributes = await prefill(sessionId);

    // Act: the guest's first message, with loyaltyTier edited in the browser
    const started = await firstMessage({ ...customAttributes, loyaltyTier: 'platinum' });

    // Assess
    await until(async () => (await conversation(started.conversationId))?.customer.attributes.loyaltyTier === 'gold', 30_000, 'the prepared loyaltyTier re-asserted');
    await until(async () => (await crmState()).records[sessionId]?.record.channelContext?.conversationId === started.conversationId, 30_000, 'the CRM record linked to the conversation');
    // Give a loop time to show: the PATCH's own attributes event has been handled by now, and nothing follows it.
    await until(async () => (await eventsOf(started.conversationId)).length >= 2, 10_000, 'the PATCH echo');
    await new Promise((done) => setTimeout(done, 3_000));
    expect((await conversation(started.conversationId)).customer.attributes).toEqual({ ...customAttributes, loyaltyTier: 'gold' });
    expect(await patchesOf(started.conversationId)).toHaveLength(1);
    expect(await eventsOf(started.conversationId)).toEqual(['customer.start', 'attributes']);
    const records = Object.values((await crmState()).records as Record<string, { record: Record<string, any> }>).filter(
      (r) => r.record.channelContext?.conversationId === started.conversationId,
    );
    expect(records).toHaveLength(1);
    // The prefill's job and the event's meet in the session's one record.
    expect(records[0]?.record).toMatchObject({
      externalId: sessionId,
      attributes: { customerId: 'C-7001', loyaltyTier: 'gold' },
      channelContext: { conversationId: started.conversationId, participantId: started.customerParticipantId },
    });
  }, 60_000);

  it('records the end of a linked conversation as the session\'s last interaction in the CRM', async () => {
    // Prepare
    const sessionId = randomUUID();
    const started = await firstMessage(await prefill(sessionId));
    await until(async () => (await crmState()).records[sessionId]?.record.channelContext?.conversationId === started.conversationId, 30_000, 'the CRM record linked to the conversation');

    // Act
    const ended = await fetch(`${stack().genesysUrl}/__sandbox/messenger/conversations/${started.conversationId}/end`, { method: 'POST' });

    // Assess
    expect(ended.status).toBe(200);
    const endedAt = (await conversation(started.conversationId)).endTime as string;
    await until(async () => (await crmState()).records[sessionId]?.record.channelContext?.conversationEndedAt !== undefined, 30_000, 'the last interaction');
    expect((await crmState()).records[sessionId].record).toMatchObject({ lastInteraction: endedAt });
  }, 60_000);

  it('hands an event whose PATCH Genesys keeps refusing to the events DLQ, with the reason, after the retries', async () => {
    // Prepare
    const sessionId = randomUUID();
    const customAttributes = await prefill(sessionId);
    await addFaults('genesys', [{ operation: 'patchConversationParticipantAttributes', status: 500 }]);

    // Act
    const started = await firstMessage({ ...customAttributes, loyaltyTier: 'platinum' });

    // Assess
    const sqs = localSqsClient(stack().sqsEndpoint);
    try {
      let letter: Record<string, any> | undefined;
      await until(
        async () => {
          const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: stack().eventsDlqUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }));
          letter = Messages.map((m) => ({ ...m, body: JSON.parse(m.Body ?? '{}') })).find((m) => m.body.requestPayload?.detail?.topicName?.includes(started.conversationId));
          return letter !== undefined;
        },
        45_000,
        'the dead letter',
      );
      expect(letter?.['body']).toMatchObject({ requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 3 }, requestPayload: { 'detail-type': 'v2.detail.events.conversation.{id}.customer.start' } });
      expect(letter?.['MessageAttributes']?.ERROR_MESSAGE?.StringValue).toMatch(/500|Genesys/);
      expect((await patchesOf(started.conversationId)).length).toBeGreaterThanOrEqual(3);
      expect((await conversation(started.conversationId)).customer.attributes.loyaltyTier).toBe('platinum');
    } finally {
      sqs.destroy();
    }
  }, 60_000);
});
