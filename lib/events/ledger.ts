/**
 * What the events function remembers in the state table beyond the prepared sessions
 * (docs/api.md sections 1 and 3): processed events for 24 hours (`event#<id>` and
 * `event#c#<content key>`), and per conversation the newest `eventTime` whose attributes
 * were applied (`event#order#<conversationId>`), so an older event never undoes a newer
 * one. The conversation's link and end live with the session (`PreparedSessions`).
 */
import { ConditionFailedError, type StateItem, type StateTable } from '#lib/state';
import { contentKeyOf, type ConversationEvent } from './envelope.ts';

/** How long a processed event is remembered: EventBridge retries for at most 24 hours. */
export const PROCESSED_EVENT_TTL_SECONDS = 86_400;

/** How long a conversation's order is kept (well past any messaging conversation's life). */
export const CONVERSATION_ORDER_TTL_SECONDS = 7 * 86_400;

interface OrderItem extends StateItem {
  /** Newest `eventTime` (epoch ms) whose attributes were applied. */
  attributesAt: number;
}

const idKey = (event: ConversationEvent): string => `event#${event.id}`;
const contentKey = (event: ConversationEvent): string => `event#c#${contentKeyOf(event)}`;
const orderKey = (conversationId: string): string => `event#order#${conversationId}`;

/** Processed events and each conversation's order over the state table. */
export class EventLedger {
  constructor(
    private readonly table: StateTable,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether this event (same id, or same topic, conversation, participant, time and body) was processed. */
  async seen(event: ConversationEvent): Promise<boolean> {
    const [byId, byContent] = await Promise.all([this.table.get(idKey(event)), this.table.get(contentKey(event))]);
    return byId !== undefined || byContent !== undefined;
  }

  /** Remembers a processed event under both keys for 24 hours. */
  async remember(event: ConversationEvent): Promise<void> {
    const expiresAt = Math.floor(this.now() / 1000) + PROCESSED_EVENT_TTL_SECONDS;
    const item = { topic: event.topic, processedAt: new Date(this.now()).toISOString(), expiresAt };
    await Promise.all([this.table.put({ pk: idKey(event), ...item }), this.table.put({ pk: contentKey(event), ...item })]);
  }

  /** The newest `eventTime` applied to the conversation's attributes, if any. */
  async appliedAt(conversationId: string): Promise<number | undefined> {
    return (await this.table.get<OrderItem>(orderKey(conversationId)))?.attributesAt;
  }

  /** Moves the conversation's order forward to `eventTime` (never back: a newer one already there stays). */
  async markApplied(conversationId: string, eventTime: number): Promise<void> {
    try {
      await this.table.put(
        { pk: orderKey(conversationId), attributesAt: eventTime, expiresAt: Math.floor(this.now() / 1000) + CONVERSATION_ORDER_TTL_SECONDS } satisfies OrderItem,
        { kind: 'absentOrBelow', field: 'attributesAt', value: eventTime },
      );
    } catch (error) {
      if (!(error instanceof ConditionFailedError)) throw error;
    }
  }
}
