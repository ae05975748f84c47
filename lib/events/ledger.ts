/**
 * What the events function remembers in the state table (contract sections 1 and 3):
 * processed events for 24 hours (`event#<id>` and `event#c#<content key>`), and per
 * conversation the session it is linked to, the newest event applied to its attributes,
 * and its end (`conversation#<id>`, kept 7 days).
 */
import { ConditionFailedError, type StateItem, type StateTable } from '#lib/state';
import { contentKeyOf, type ConversationEvent } from './envelope.ts';

/** How long a processed event is remembered: EventBridge retries for at most 24 hours. */
export const PROCESSED_EVENT_TTL_SECONDS = 86_400;

/** How long a conversation's link and order are kept (well past any messaging conversation's life). */
export const CONVERSATION_TTL_SECONDS = 7 * 86_400;

/** What the suite knows about one conversation. */
export interface ConversationRecord {
  conversationId: string;
  /** The prepared session the conversation was linked to. */
  sessionId?: string;
  participantId?: string;
  /** Newest `eventTime` (epoch ms) whose attributes were applied: older ones change nothing. */
  attributesAt?: number;
  /** When the conversation ended (epoch ms), once a `customer.end` was handled. */
  endedAt?: number;
}

interface ConversationItem extends StateItem, ConversationRecord {}

const conversationKey = (conversationId: string): string => `conversation#${conversationId}`;
const idKey = (event: ConversationEvent): string => `event#${event.id}`;
const contentKey = (event: ConversationEvent): string => `event#c#${contentKeyOf(event)}`;

/** Processed events and conversation records over the state table. */
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

  /** The conversation's record (an empty one when the suite has not seen it). */
  async conversation(conversationId: string): Promise<ConversationRecord> {
    const item = await this.table.get<ConversationItem>(conversationKey(conversationId));
    if (!item) return { conversationId };
    const { pk: _pk, expiresAt: _expiresAt, ...record } = item;
    return record as ConversationRecord;
  }

  /**
   * Applies `change` to the conversation's record and writes it, only over the version
   * read (a concurrent writer makes it read and apply again). Resolves with the record written.
   */
  async update(conversationId: string, change: (record: ConversationRecord) => ConversationRecord): Promise<ConversationRecord> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const item = await this.table.get<ConversationItem>(conversationKey(conversationId));
      const { pk: _pk, expiresAt: _expiresAt, version, ...current } = item ?? { pk: '', conversationId };
      const next = change(current as ConversationRecord);
      const nextVersion = typeof version === 'number' ? version + 1 : 1;
      try {
        await this.table.put(
          { pk: conversationKey(conversationId), ...next, version: nextVersion, expiresAt: Math.floor(this.now() / 1000) + CONVERSATION_TTL_SECONDS },
          // The first write may replace an expired item DynamoDB has not deleted yet.
          typeof version === 'number' ? { kind: 'equals', field: 'version', value: version } : { kind: 'absentOrBelow', field: 'expiresAt', value: Math.floor(this.now() / 1000) },
        );
        return next;
      } catch (error) {
        if (!(error instanceof ConditionFailedError)) throw error;
      }
    }
    throw new Error(`Conversation ${conversationId} kept changing while an event was applied`);
  }
}
