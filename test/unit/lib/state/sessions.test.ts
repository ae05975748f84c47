/**
 * Prepared sessions: stored under an unguessable reference, found by it until they expire,
 * and a second preparation of a session keeps its reference.
 */
import { describe, expect, it } from 'vitest';
import { PreparedSessions, liveConversation, type StateItem } from '#lib/state';
import { SESSION_REF_PATTERN, newSessionRef } from '#lib/state/sessions.ts';
import { MemoryStateTable } from '#lib/state/table.ts';

const SESSION = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
const at = Date.parse('2026-11-30T12:00:00Z');

describe('prepared sessions', () => {
  it('stores a session under a reference of at least 128 random bits, found by that reference', async () => {
    // Prepare
    const sessions = new PreparedSessions(new MemoryStateTable(() => at), () => at);

    // Act
    const stored = await sessions.prepare(SESSION, { loyaltyTier: 'gold' }, new Date(at).toISOString(), 1800);

    // Assess
    expect(stored.gsRef).toMatch(SESSION_REF_PATTERN);
    expect(Buffer.from(stored.gsRef, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
    expect(await sessions.byRef(stored.gsRef)).toEqual({ sessionId: SESSION, gsRef: stored.gsRef, attributes: { loyaltyTier: 'gold' }, preparedAt: new Date(at).toISOString() });
    expect(liveConversation(stored)).toBeUndefined();
  });

  it('keeps the reference when the session is prepared again, with the new attributes', async () => {
    const sessions = new PreparedSessions(new MemoryStateTable(() => at), () => at);
    const first = await sessions.prepare(SESSION, { loyaltyTier: 'gold' }, '2026-11-30T12:00:00.000Z', 1800);
    const second = await sessions.prepare(SESSION, { loyaltyTier: 'platinum' }, '2026-11-30T12:00:05.000Z', 1800);
    expect(second.gsRef).toBe(first.gsRef);
    expect((await sessions.byRef(first.gsRef))?.attributes).toEqual({ loyaltyTier: 'platinum' });
  });

  it('gives two racing first preparations one reference', async () => {
    const sessions = new PreparedSessions(new MemoryStateTable(() => at), () => at);
    const [a, b] = await Promise.all([
      sessions.prepare(SESSION, { tier: 'a' }, '2026-11-30T12:00:00.000Z', 1800),
      sessions.prepare(SESSION, { tier: 'b' }, '2026-11-30T12:00:00.000Z', 1800),
    ]);
    expect(a.gsRef).toBe(b.gsRef);
    expect(await sessions.byRef(a.gsRef)).toBeDefined();
  });

  it('names no session once the preparation has expired, nor for a guessed or malformed reference', async () => {
    // Prepare
    const clock = { now: at };
    const table = new MemoryStateTable(() => clock.now);
    const sessions = new PreparedSessions(table, () => clock.now);
    const stored = await sessions.prepare(SESSION, { loyaltyTier: 'gold' }, new Date(at).toISOString(), 60);

    // Act / Assess
    expect(await sessions.byRef(newSessionRef())).toBeUndefined();
    expect(await sessions.byRef('not a reference')).toBeUndefined();
    clock.now += 61_000;
    expect(await sessions.byRef(stored.gsRef)).toBeUndefined();
    // A new preparation after expiry starts over with a new reference.
    const again = await sessions.prepare(SESSION, { loyaltyTier: 'gold' }, new Date(clock.now).toISOString(), 60);
    expect(again.gsRef).not.toBe(stored.gsRef);
    expect(await sessions.byRef(again.gsRef)).toMatchObject({ sessionId: SESSION });
  });

  it('gives every expiring item an expiresAt', async () => {
    const table = new MemoryStateTable(() => at);
    await new PreparedSessions(table, () => at).prepare(SESSION, { a: 'b' }, new Date(at).toISOString(), 1800);
    expect([...table.items.values()].map((item) => item.expiresAt)).toEqual([at / 1000 + 1800, at / 1000 + 1800]);
  });
});

describe('prepared sessions linked to a conversation', () => {
  const LINK = { conversationId: 'c0c0c0c0-0000-4000-8000-000000000001', participantId: 'b0b0b0b0-0000-4000-8000-000000000002' };
  const LATER = { conversationId: 'c0c0c0c0-0000-4000-8000-000000000009', participantId: 'b0b0b0b0-0000-4000-8000-000000000009' };
  const make = () => {
    const table = new MemoryStateTable(() => at);
    return { table, sessions: new PreparedSessions(table, () => at) };
  };

  it('is live once linked, and a second preparation keeps the link and the reference', async () => {
    // Prepare
    const { sessions } = make();
    const first = await sessions.prepare(SESSION, { tier: 'gold' }, '2026-11-30T12:00:00.000Z', 1800);

    // Act
    const linked = await sessions.link(SESSION, LINK, '2026-11-30T12:01:00.000Z');
    const again = await sessions.prepare(SESSION, { tier: 'platinum' }, '2026-11-30T12:02:00.000Z', 1800);

    // Assess
    expect(linked && liveConversation(linked)).toEqual(LINK);
    expect(again).toMatchObject({ gsRef: first.gsRef, attributes: { tier: 'platinum' }, ...LINK, linkedAt: '2026-11-30T12:01:00.000Z' });
    expect(liveConversation(again)).toEqual(LINK);
    expect(await sessions.byConversation(LINK.conversationId)).toMatchObject({ sessionId: SESSION, attributes: { tier: 'platinum' } });
  });

  it('is no longer live once its conversation ended, until it is linked to a new one', async () => {
    // Prepare
    const { sessions } = make();
    await sessions.prepare(SESSION, { tier: 'gold' }, '2026-11-30T12:00:00.000Z', 1800);
    await sessions.link(SESSION, LINK, '2026-11-30T12:01:00.000Z');

    // Act
    const ended = await sessions.end(LINK.conversationId, '2026-11-30T12:05:00.000Z');
    const prepared = await sessions.prepare(SESSION, { tier: 'gold' }, '2026-11-30T12:06:00.000Z', 1800);
    const relinked = await sessions.link(SESSION, LATER, '2026-11-30T12:07:00.000Z');

    // Assess
    expect(ended).toMatchObject({ sessionId: SESSION, endedAt: '2026-11-30T12:05:00.000Z' });
    expect(liveConversation(prepared)).toBeUndefined();
    expect(relinked && liveConversation(relinked)).toEqual(LATER);
  });

  it('counts an end that arrives before the link, and ignores the end of a conversation it is no longer linked to', async () => {
    // Prepare
    const { sessions } = make();
    await sessions.prepare(SESSION, { tier: 'gold' }, '2026-11-30T12:00:00.000Z', 1800);

    // Act
    expect(await sessions.end(LINK.conversationId, '2026-11-30T12:05:00.000Z')).toBeUndefined();
    const late = await sessions.link(SESSION, LINK, '2026-11-30T12:04:00.000Z');
    const current = await sessions.link(SESSION, LATER, '2026-11-30T12:06:00.000Z');
    await sessions.end(LINK.conversationId, '2026-11-30T12:07:00.000Z');

    // Assess
    expect(late && liveConversation(late)).toBeUndefined();
    expect(current && liveConversation(current)).toEqual(LATER);
    expect(liveConversation((await sessions.get(SESSION))!)).toEqual(LATER);
  });

  it('links nothing when the session has expired or was never prepared', async () => {
    const { sessions } = make();
    expect(await sessions.link(SESSION, LINK, '2026-11-30T12:01:00.000Z')).toBeUndefined();
    expect(await sessions.get(SESSION)).toBeUndefined();
  });

  it('keeps a link written between the read and the write of a preparation', async () => {
    // Prepare: the table runs the link at the moment the preparation writes its reference item.
    const table = new MemoryStateTable(() => at);
    const sessions = new PreparedSessions(table, () => at);
    await sessions.prepare(SESSION, { tier: 'gold' }, '2026-11-30T12:00:00.000Z', 1800);
    const put = table.put.bind(table);
    let raced = false;
    table.put = async (item: StateItem, condition) => {
      if (!raced && item.pk.startsWith('gsref#')) {
        raced = true;
        await sessions.link(SESSION, LINK, '2026-11-30T12:01:00.000Z');
      }
      return put(item, condition);
    };

    // Act
    const prepared = await sessions.prepare(SESSION, { tier: 'platinum' }, '2026-11-30T12:01:00.000Z', 1800);

    // Assess
    expect(raced).toBe(true);
    expect(prepared).toMatchObject({ attributes: { tier: 'platinum' }, ...LINK });
    expect(await sessions.get(SESSION)).toMatchObject({ attributes: { tier: 'platinum' }, ...LINK });
  });

  it('links the session once when every event of the conversation links it at the same time (start, attributes, two echoes), and none of them fails', async () => {
    // Prepare
    const { table, sessions } = make();
    await sessions.prepare(SESSION, { tier: 'gold' }, '2026-11-30T12:00:00.000Z', 1800);
    const put = table.put.bind(table);
    let sessionWrites = 0;
    table.put = async (item: StateItem, condition) => {
      const written = await put(item, condition);
      if (item.pk === `session#${SESSION}`) sessionWrites += 1;
      return written;
    };

    // Act
    const linked = await Promise.allSettled(Array.from({ length: 4 }, () => sessions.link(SESSION, LINK, '2026-11-30T12:01:00.000Z')));

    // Assess
    expect(linked.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(await sessions.byConversation(LINK.conversationId)).toMatchObject({ sessionId: SESSION, ...LINK, linkedAt: '2026-11-30T12:01:00.000Z' });
    // One write made the link; the other deliveries found it made and wrote nothing.
    expect(sessionWrites).toBe(1);
  });

  it('keeps a conversation item at least a day, whatever the session TTL', async () => {
    const { table, sessions } = make();
    await sessions.prepare(SESSION, { tier: 'gold' }, '2026-11-30T12:00:00.000Z', 60);
    await sessions.link(SESSION, LINK, '2026-11-30T12:00:30.000Z');
    expect(table.items.get(`conversation#${LINK.conversationId}`)).toEqual({
      pk: `conversation#${LINK.conversationId}`,
      sessionId: SESSION,
      expiresAt: at / 1000 + 24 * 3600,
    });
  });
});
