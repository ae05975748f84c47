/**
 * Prepared sessions: stored under an unguessable reference, found by it until they expire,
 * and a second preparation of a session keeps its reference.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStateTable, PreparedSessions, SESSION_REF_PATTERN, newSessionRef } from '#lib/state';

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
