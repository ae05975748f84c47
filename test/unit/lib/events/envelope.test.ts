/**
 * The envelope parser, on events written as Genesys's EventBridge integration documents
 * them (docs/api.md section 3): the EventBridge envelope around `{topicName, version,
 * eventBody, metadata: {CorrelationId}, timestamp}`, with every field Genesys sends,
 * including the ones the suite does not use.
 */
import { describe, expect, it } from 'vitest';
import type { EventBridgeEvent } from 'aws-lambda';
import { contentKeyOf, parseConversationEvent } from '#lib/events/envelope.ts';
import { eventBridgeEvent } from '#test/support/factories.ts';

const ORG = '6a3b1c2d-0e4f-4a5b-8c6d-7e8f9a0b1c2d';
const CONVERSATION = 'b2a8c4d6-1e3f-4a5b-9c7d-8e9f0a1b2c3d';
const PARTICIPANT = 'c3b9d5e7-2f4a-4b6c-8d0e-9f0a1b2c3d4e';

/** An event exactly as Genesys publishes it to the partner event bus. */
function genesysEvent(topic: string, eventBody: Record<string, unknown>, id?: string): EventBridgeEvent<string, Record<string, unknown>> {
  return eventBridgeEvent({
    ...(id === undefined ? {} : { id }),
    detailType: `v2.detail.events.conversation.{id}.${topic}`,
    source: `aws.partner/genesys.com/cloud/${ORG}/guest-sync`,
    detail: {
      topicName: `v2.detail.events.conversation.${CONVERSATION}.${topic}`,
      version: '2',
      eventBody,
      metadata: { CorrelationId: '0d5e1f2a-3b4c-4d5e-8f6a-7b8c9d0e1f2a' },
      timestamp: '2025-03-01T12:00:00.412Z',
    },
  });
}

const attributesBody = {
  eventTime: 1740830400123,
  conversationId: CONVERSATION,
  participantId: PARTICIPANT,
  attributes: { gsRef: 'AbCdEfGhIjKlMnOpQrStUvWx', loyaltyTier: 'platinum' },
  conversationExternalContactIds: [],
  conversationExternalOrganizationIds: [],
  communications: [{ id: 'd4c0e6f8-3a5b-4c7d-9e1f-0a1b2c3d4e5f', mediaType: 'MESSAGE' }],
};

describe('parseConversationEvent', () => {
  it('reads an attributes event and ignores the fields the suite does not use', () => {
    // Act
    const parsed = parseConversationEvent(genesysEvent('attributes', attributesBody));

    // Assess
    expect(parsed).toMatchObject({
      kind: 'event',
      event: {
        id: '5f3b0e4a-8c1d-4e2f-9a6b-7c8d9e0f1a2b',
        topic: 'attributes',
        source: `aws.partner/genesys.com/cloud/${ORG}/guest-sync`,
        conversationId: CONVERSATION,
        participantId: PARTICIPANT,
        eventTime: 1740830400123,
        attributes: { gsRef: 'AbCdEfGhIjKlMnOpQrStUvWx', loyaltyTier: 'platinum' },
      },
    });
    expect(Object.keys(parsed.kind === 'event' ? parsed.event : {})).not.toContain('communications');
  });

  it('reads customer.start and customer.end with their documented fields', () => {
    // Act
    const start = parseConversationEvent(
      genesysEvent('customer.start', {
        eventTime: 1740830400000,
        conversationId: CONVERSATION,
        participantId: PARTICIPANT,
        sessionId: 'e5d1f7a9-4b6c-4d8e-8f2a-1b2c3d4e5f6a',
        mediaType: 'MESSAGE',
        messageType: 'WEBMESSAGING',
        direction: 'INBOUND',
        divisionId: 'f6e2a8b0-5c7d-4e9f-9a3b-2c3d4e5f6a7b',
      }),
    );
    const end = parseConversationEvent(
      genesysEvent('customer.end', {
        eventTime: '2025-03-01T12:05:00.000Z',
        conversationId: CONVERSATION,
        participantId: PARTICIPANT,
        disconnectType: 'CLIENT',
        interactingDurationMs: 300000,
      }),
    );

    // Assess
    expect(start).toMatchObject({ kind: 'event', event: { topic: 'customer.start', participantId: PARTICIPANT, eventTime: 1740830400000 } });
    expect(end).toMatchObject({ kind: 'event', event: { topic: 'customer.end', eventTime: Date.parse('2025-03-01T12:05:00.000Z'), interactingDurationMs: 300000 } });
  });

  it.each([
    'v2.detail.events.conversation.{id}.acw',
    'v2.detail.events.conversation.{id}.user.start',
    'v2.audits.entitytype.{id}.entityid.{id}',
  ])('ignores the topic %s', (detailType) => {
    // Act
    const parsed = parseConversationEvent({ ...genesysEvent('attributes', attributesBody), 'detail-type': detailType });

    // Assess
    expect(parsed).toEqual({ kind: 'ignored', detailType });
  });

  it.each<[string, (event: Record<string, any>) => void, string]>([
    ['no id', (e) => delete e.id, 'id is missing'],
    ['no detail', (e) => delete e.detail, 'detail is not an object'],
    ['a topicName of another topic', (e) => (e.detail.topicName = `v2.detail.events.conversation.${CONVERSATION}.customer.end`), "detail.topicName does not name the detail-type's topic"],
    ['a conversationId unlike the topic\'s', (e) => (e.detail.eventBody.conversationId = 'someone-else'), "eventBody.conversationId differs from the topic's"],
    ['no eventTime', (e) => delete e.detail.eventBody.eventTime, 'eventBody.eventTime is missing or not a time'],
    ['an attribute that is not a string', (e) => (e.detail.eventBody.attributes.points = 12), 'eventBody.attributes holds a value that is not a string'],
    ['no participantId', (e) => delete e.detail.eventBody.participantId, 'eventBody.participantId is missing'],
  ])('describes an event with %s as malformed, without throwing', (_case, spoil, reason) => {
    // Prepare
    const event = structuredClone(genesysEvent('attributes', attributesBody)) as Record<string, any>;
    spoil(event);

    // Act
    const parsed = parseConversationEvent(event);

    // Assess
    expect(parsed).toMatchObject({ kind: 'malformed', reason });
  });

  it.each([null, 'text', 42, []])('describes %j as malformed', (raw) => {
    expect(parseConversationEvent(raw)).toMatchObject({ kind: 'malformed' });
  });

  it('gives the same content key to a redelivery under a new id, and another to a changed body', () => {
    // Prepare
    const read = (event: unknown) => {
      const parsed = parseConversationEvent(event);
      if (parsed.kind !== 'event') throw new Error('not an event');
      return parsed.event;
    };

    // Act
    const first = read(genesysEvent('attributes', attributesBody));
    const again = read(genesysEvent('attributes', { ...attributesBody }, '11111111-2222-4333-8444-555555555555'));
    const changed = read(genesysEvent('attributes', { ...attributesBody, attributes: { loyaltyTier: 'gold' } }));

    // Assess
    expect(contentKeyOf(again)).toBe(contentKeyOf(first));
    expect(contentKeyOf(changed)).not.toBe(contentKeyOf(first));
  });
});
