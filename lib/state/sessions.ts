/**
 * Prepared sessions (docs/api.md sections 2 and 3): what the suite prepared for a web
 * messaging session before its first message, kept in the state table under an
 * unguessable reference (`gsRef`) the page hands to the Messenger with `Database.set`, so
 * that the values can be re-asserted on the conversation once it exists.
 *
 * Items:
 * - `session#<sessionId>`: the prepared attributes, the reference, the conversation link
 *   once known, and when that conversation ended;
 * - `gsref#<gsRef>`: which session a reference names (expires with the session);
 * - `conversation#<conversationId>`: which session a conversation belongs to, and whether it
 *   has ended, so that a `customer.end` event (which names only the conversation) finds its
 *   session, and an end that arrives before the link still counts. Kept for a day at least.
 *
 * "Linked to a live conversation" (`liveConversation`) means: the session names a
 * conversation and its guest participant, and no end of that conversation has been
 * recorded. The events function records both (`link` on the first `attributes` event that
 * carries the reference, `end` on `customer.end`); prefill only reads them.
 *
 * Every write of a session item is conditional on the revision it read, so a preparation
 * and a link racing on one session never lose each other's fields.
 */
import { randomBytes } from 'node:crypto';
import { ConditionFailedError, SessionStoreError } from './errors.ts';
import type { PutCondition, StateItem, StateTable } from './table.ts';

/** What was prepared for a session: the Messenger's string map, and where it stands. */
export interface PreparedSession {
  sessionId: string;
  gsRef: string;
  /** Exactly what the page passes to `Database.set` (strings), `gsRef` not included. */
  attributes: Record<string, string>;
  /** When the preparation arrived (ISO), the version the CRM record carries. */
  preparedAt: string;
  /** The conversation the session became, once linked (section 3). */
  conversationId?: string;
  /** The guest (`customer`) participant of that conversation. */
  participantId?: string;
  /** When the link was recorded (ISO). */
  linkedAt?: string;
  /** When the linked conversation ended (ISO); a session with this set is no longer live. */
  endedAt?: string;
}

/** The conversation and guest participant a session's attributes can be PATCHed onto. */
export interface ConversationLink {
  conversationId: string;
  participantId: string;
}

interface SessionItem extends StateItem, PreparedSession {
  /** Bumped by every write; each write is conditional on the revision it read. */
  revision?: number;
}

interface RefItem extends StateItem {
  sessionId: string;
}

interface ConversationItem extends StateItem {
  sessionId?: string;
  endedAt?: string;
}

/** Bytes of randomness in a reference: 144 bits (the contract asks for at least 128). */
const REF_BYTES = 18;

/** A conversation item outlives its session by at least this long (a conversation can last longer than a preparation). */
export const CONVERSATION_LINK_TTL_SECONDS = 24 * 3600;

const ATTEMPTS = 3;

const sessionKey = (sessionId: string): string => `session#${sessionId}`;
const refKey = (gsRef: string): string => `gsref#${gsRef}`;
const conversationKey = (conversationId: string): string => `conversation#${conversationId}`;

/** A new unguessable reference: 144 random bits, base64url (24 characters). */
export function newSessionRef(): string {
  return randomBytes(REF_BYTES).toString('base64url');
}

/** The shape a reference must have before it is looked up (anything else names no session). */
export const SESSION_REF_PATTERN = /^[A-Za-z0-9_-]{24}$/;

/** The conversation a prefill may PATCH at once: linked, and not known to have ended. */
export function liveConversation(session: PreparedSession): ConversationLink | undefined {
  if (!session.conversationId || !session.participantId || session.endedAt) return undefined;
  return { conversationId: session.conversationId, participantId: session.participantId };
}

/** Prepared sessions over the state table. */
export class PreparedSessions {
  constructor(
    private readonly table: StateTable,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Stores what was prepared for `sessionId` for `ttlSeconds`, keeping the session's
   * reference and its conversation link when it has them (also when two first
   * preparations race: the loser takes the winner's reference). The reference item is
   * written first, so a session never names a reference that does not resolve. Resolves
   * with the stored session. Three state-table calls: read the session, write the
   * reference, write the session.
   */
  async prepare(sessionId: string, attributes: Record<string, string>, preparedAt: string, ttlSeconds: number): Promise<PreparedSession> {
    const expiresAt = this.#nowSeconds() + ttlSeconds;
    for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
      const existing = await this.table.get<SessionItem>(sessionKey(sessionId));
      const gsRef = existing?.gsRef ?? newSessionRef();
      const session: PreparedSession = { ...(existing ? strip(existing) : {}), sessionId, gsRef, attributes, preparedAt };
      await this.table.put({ pk: refKey(gsRef), sessionId, expiresAt } satisfies RefItem);
      try {
        await this.#write(session, existing, expiresAt);
        return session;
      } catch (error) {
        if (!(error instanceof ConditionFailedError)) throw error;
        // Another writer changed the session in between: read it again and keep what it wrote.
        if (!existing) await this.table.delete(refKey(gsRef)).catch(() => undefined);
      }
    }
    throw new Error(`Session ${sessionId} kept changing while it was being prepared`);
  }

  /**
   * Records that the session became `conversationId`, with `participantId` as its guest
   * (the events function calls this when an `attributes` event carries the session's
   * reference). Relinking to another conversation replaces the link. When the end of that
   * conversation was recorded first (events arrive out of order), the link is recorded as
   * ended. Resolves with the session, or undefined when it no longer exists (expired).
   */
  async link(sessionId: string, link: ConversationLink, linkedAt: string): Promise<PreparedSession | undefined> {
    const conversation = await this.table.get<ConversationItem>(conversationKey(link.conversationId));
    for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
      const existing = await this.table.get<SessionItem>(sessionKey(sessionId));
      if (!existing) return undefined;
      const { endedAt: _previousEnd, ...current } = strip(existing);
      const sameConversation = existing.conversationId === link.conversationId;
      const endedAt = conversation?.endedAt ?? (sameConversation ? existing.endedAt : undefined);
      const session: PreparedSession = {
        ...current,
        conversationId: link.conversationId,
        participantId: link.participantId,
        linkedAt: sameConversation && existing.linkedAt ? existing.linkedAt : linkedAt,
        ...(endedAt ? { endedAt } : {}),
      };
      try {
        await this.#write(session, existing, existing.expiresAt ?? this.#nowSeconds());
      } catch (error) {
        if (error instanceof ConditionFailedError) continue;
        throw error;
      }
      await this.table.put({
        pk: conversationKey(link.conversationId),
        sessionId,
        ...(endedAt ? { endedAt } : {}),
        expiresAt: Math.max(existing.expiresAt ?? 0, this.#nowSeconds() + CONVERSATION_LINK_TTL_SECONDS),
      } satisfies ConversationItem);
      return session;
    }
    throw new Error(`Session ${sessionId} kept changing while it was being linked`);
  }

  /**
   * Records that `conversationId` ended (the events function calls this on `customer.end`):
   * the session linked to it stops being live, so prefill no longer PATCHes it. An end of a
   * conversation the session is no longer linked to changes nothing on the session. Resolves
   * with the session that was linked to the conversation, or undefined when none is known.
   */
  async end(conversationId: string, endedAt: string): Promise<PreparedSession | undefined> {
    const conversation = await this.table.get<ConversationItem>(conversationKey(conversationId));
    await this.table.put({
      ...(conversation ?? {}),
      pk: conversationKey(conversationId),
      endedAt: conversation?.endedAt ?? endedAt,
      expiresAt: Math.max(conversation?.expiresAt ?? 0, this.#nowSeconds() + CONVERSATION_LINK_TTL_SECONDS),
    } satisfies ConversationItem);
    if (!conversation?.sessionId) return undefined;
    for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
      const existing = await this.table.get<SessionItem>(sessionKey(conversation.sessionId));
      if (!existing) return undefined;
      if (existing.conversationId !== conversationId || existing.endedAt) return strip(existing);
      const session: PreparedSession = { ...strip(existing), endedAt };
      try {
        await this.#write(session, existing, existing.expiresAt ?? this.#nowSeconds());
        return session;
      } catch (error) {
        if (!(error instanceof ConditionFailedError)) throw error;
      }
    }
    throw new Error(`Session ${conversation.sessionId} kept changing while its conversation was being ended`);
  }

  /** The session a reference names, or undefined when it names none (expired, or guessed). */
  async byRef(gsRef: string): Promise<PreparedSession | undefined> {
    if (!SESSION_REF_PATTERN.test(gsRef)) return undefined;
    const ref = await this.table.get<RefItem>(refKey(gsRef));
    if (!ref) return undefined;
    const session = await this.table.get<SessionItem>(sessionKey(ref.sessionId));
    return session?.gsRef === gsRef ? strip(session) : undefined;
  }

  /** The session as prepared, or undefined. */
  async get(sessionId: string): Promise<PreparedSession | undefined> {
    const session = await this.table.get<SessionItem>(sessionKey(sessionId));
    return session ? strip(session) : undefined;
  }

  /** The session a conversation was linked to, or undefined. */
  async byConversation(conversationId: string): Promise<PreparedSession | undefined> {
    const conversation = await this.table.get<ConversationItem>(conversationKey(conversationId));
    return conversation?.sessionId ? this.get(conversation.sessionId) : undefined;
  }

  /**
   * Writes the session item at the next revision, only if it is still at the revision
   * `existing` had (created only if absent or expired when there was none).
   */
  async #write(session: PreparedSession, existing: SessionItem | undefined, expiresAt: number): Promise<void> {
    const revision = (existing?.revision ?? 0) + 1;
    const condition: PutCondition = !existing
      ? { kind: 'absentOrBelow', field: 'expiresAt', value: this.#nowSeconds() }
      : existing.revision === undefined
        ? { kind: 'equals', field: 'gsRef', value: existing.gsRef }
        : { kind: 'equals', field: 'revision', value: existing.revision };
    await this.table.put({ pk: sessionKey(session.sessionId), ...session, revision, expiresAt } satisfies SessionItem, condition);
  }

  #nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }
}

function strip(item: SessionItem): PreparedSession {
  const { pk: _pk, expiresAt: _expiresAt, revision: _revision, ...session } = item;
  return session as PreparedSession;
}
