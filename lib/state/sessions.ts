/**
 * Prepared sessions (contract sections 2 and 3): what the suite prepared for a web
 * messaging session before its first message, kept in the state table under an
 * unguessable reference (`gsRef`) the page hands to the Messenger with `Database.set`, so
 * that the values can be re-asserted on the conversation once it exists.
 *
 * Two items per session: `session#<sessionId>` (the prepared attributes, the reference,
 * the conversation link once known) and `gsref#<gsRef>` (which session a reference names).
 * Both expire together (`expiresAt`); a second preparation of the same session replaces
 * the attributes and keeps the reference.
 */
import { randomBytes } from 'node:crypto';
import { ConditionFailedError, type StateItem, type StateTable } from './table.ts';

/** What was prepared for a session: the Messenger's string map, and the CRM record fields. */
export interface PreparedSession {
  sessionId: string;
  gsRef: string;
  /** Exactly what the page passes to `Database.set` (strings), `gsRef` not included. */
  attributes: Record<string, string>;
  /** When the preparation arrived (ISO), the version the CRM record carries. */
  preparedAt: string;
  /** The conversation the session became, once linked (section 3). */
  conversationId?: string;
  participantId?: string;
}

interface SessionItem extends StateItem, PreparedSession {}

interface RefItem extends StateItem {
  sessionId: string;
}

/** Bytes of randomness in a reference: 144 bits (the contract asks for at least 128). */
const REF_BYTES = 18;

const sessionKey = (sessionId: string): string => `session#${sessionId}`;
const refKey = (gsRef: string): string => `gsref#${gsRef}`;

/** A new unguessable reference: 144 random bits, base64url (24 characters). */
export function newSessionRef(): string {
  return randomBytes(REF_BYTES).toString('base64url');
}

/** The shape a reference must have before it is looked up (anything else names no session). */
export const SESSION_REF_PATTERN = /^[A-Za-z0-9_-]{24}$/;

/** Prepared sessions over the state table. */
export class PreparedSessions {
  constructor(
    private readonly table: StateTable,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Stores what was prepared for `sessionId` for `ttlSeconds`, keeping the session's
   * reference when it has one (also when two first preparations race: the loser takes the
   * winner's reference). The reference item is written first, so a session never names a
   * reference that does not resolve. Resolves with the stored session.
   */
  async prepare(sessionId: string, attributes: Record<string, string>, preparedAt: string, ttlSeconds: number): Promise<PreparedSession> {
    const expiresAt = Math.floor(this.now() / 1000) + ttlSeconds;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const existing = await this.table.get<SessionItem>(sessionKey(sessionId));
      const gsRef = existing?.gsRef ?? newSessionRef();
      const session: PreparedSession = {
        sessionId,
        gsRef,
        attributes,
        preparedAt,
        ...(existing?.conversationId ? { conversationId: existing.conversationId } : {}),
        ...(existing?.participantId ? { participantId: existing.participantId } : {}),
      };
      await this.table.put({ pk: refKey(gsRef), sessionId, expiresAt } satisfies RefItem);
      try {
        await this.table.put(
          { pk: sessionKey(sessionId), ...session, expiresAt } satisfies SessionItem,
          existing ? { kind: 'equals', field: 'gsRef', value: gsRef } : { kind: 'absentOrBelow', field: 'expiresAt', value: Math.floor(this.now() / 1000) },
        );
        return session;
      } catch (error) {
        if (!(error instanceof ConditionFailedError)) throw error;
        // Another preparation of this session won the race: read it again and keep its reference.
        if (!existing) await this.table.delete(refKey(gsRef)).catch(() => undefined);
      }
    }
    throw new Error(`Session ${sessionId} kept changing while it was being prepared`);
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
}

function strip(item: SessionItem): PreparedSession {
  const { pk: _pk, expiresAt: _expiresAt, ...session } = item;
  return session as PreparedSession;
}
