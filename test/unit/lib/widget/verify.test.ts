import { describe, expect, it } from 'vitest';
import type { Conversation } from '#lib/genesys';
import { verifyConversationAttributes } from '#lib/widget';

const conversation = (attributes: Record<string, string> | undefined, purpose = 'customer'): Conversation => ({
  id: 'conv-1',
  participants: [
    { id: 'p-agent', purpose: 'agent', attributes: { userId: 'not the guest' } },
    { id: 'p-guest', purpose, ...(attributes ? { attributes } : {}) },
  ],
});

describe('verifyConversationAttributes', () => {
  it('reports each name as present or missing on the guest participant', () => {
    // Act
    const verdict = verifyConversationAttributes(conversation({ userId: 'usr_1', userTier: 'gold', empty: '' }), ['userId', 'userTier', 'lastOrderDate', 'empty']);

    // Assess
    expect(verdict).toEqual({
      conversationId: 'conv-1',
      participantId: 'p-guest',
      checks: [
        { name: 'userId', present: true, value: 'usr_1' },
        { name: 'userTier', present: true, value: 'gold' },
        { name: 'lastOrderDate', present: false },
        { name: 'empty', present: false },
      ],
      ok: false,
    });
  });

  it('is ok when every name is present', () => {
    expect(verifyConversationAttributes(conversation({ userId: 'u' }), ['userId']).ok).toBe(true);
  });

  it('matches names exactly (case-sensitive)', () => {
    expect(verifyConversationAttributes(conversation({ UserId: 'u' }), ['userId']).checks).toEqual([{ name: 'userId', present: false }]);
  });

  it('finds a guest participant named "guest" too', () => {
    expect(verifyConversationAttributes(conversation({ userId: 'u' }, 'guest'), ['userId']).participantId).toBe('p-guest');
  });

  it('is not ok without a guest participant', () => {
    expect(verifyConversationAttributes({ id: 'c', participants: [{ id: 'a', purpose: 'agent' }] }, ['userId'])).toMatchObject({ participantId: undefined, ok: false });
  });

  it('masks a value that holds an identifier', () => {
    expect(verifyConversationAttributes(conversation({ userId: 'jane@example.com' }), ['userId']).checks[0]?.value).toBe('****************');
  });
});
