import { describe, expect, it } from 'vitest';
import { contactAttributes, mergeProfile, prechatSyncJob, routingAttributes, sessionReference, toFlatAttributes } from '#lib/prechat';

describe('toFlatAttributes', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ['keeps strings, finite numbers and booleans', { a: 'x', b: 2, c: false }, { a: 'x', b: 2, c: false }],
    ['drops undefined and null', { a: undefined, b: null, c: 'x' }, { c: 'x' }],
    ['drops nested objects and arrays', { a: { b: 1 }, c: [1, 2], d: 1 }, { d: 1 }],
    ['drops non-finite numbers', { a: Number.NaN, b: Number.POSITIVE_INFINITY, c: 0 }, { c: 0 }],
    ['masks identifiers in strings', { note: 'mail jane@example.com or call 555-123-4567' }, { note: 'mail **************** or call ***-***-****' }],
    ['masks an identifier the CRM holds as a number', { customerId: 5551234567, loyaltyPoints: 1200 }, { customerId: '***-***-****', loyaltyPoints: 1200 }],
    ['masks a value under an identifier key whatever it is', { mobile: 447911123456 }, { mobile: '***-***-****' }],
  ])('%s', (_case, input, expected) => {
    expect(toFlatAttributes(input)).toEqual(expected);
  });
});

describe('contact attributes', () => {
  const profile = mergeProfile(
    { email: 'jane@example.com', subject: 'Refund for order 42', priority: 'high' },
    { id: 'cust-1', firstName: 'Jane', lastName: 'Doe', loyaltyTier: 'gold', accountStatus: 'active', loyaltyPoints: 50 },
  );

  it('are flat and hold the merged profile', () => {
    // Act
    const attributes = contactAttributes(profile, true, 'email');

    // Assess
    expect(attributes).toEqual({
      customerId: 'cust-1',
      firstName: 'Jane',
      lastName: 'Doe',
      loyaltyTier: 'gold',
      accountStatus: 'active',
      loyaltyPoints: 50,
      preChatSubject: 'Refund for order 42',
      preChatPriority: 'high',
      enriched: true,
      identityResolution: 'email',
    });
    for (const value of Object.values(attributes)) expect(['string', 'number', 'boolean']).toContain(typeof value);
  });

  it('route on subject, priority and tier when the conversation is created', () => {
    expect(routingAttributes(profile)).toEqual({ preChatSubject: 'Refund for order 42', preChatPriority: 'high', loyaltyTier: 'gold' });
  });
});

describe('prechatSyncJob', () => {
  const base = {
    identity: { emailHash: 'e'.repeat(64), resolutionMethod: 'email' as const },
    conversationId: 'conv-1',
    routingQueue: 'q-gold',
    sessionToken: 'wm-session-secret-token',
    at: new Date('2025-03-01T10:00:00.000Z'),
  };

  it.each([
    ['the CRM customer id when enriched', mergeProfile({ email: 'a@b.co' }, { id: 'cust-1' }), true, 'cust-1'],
    ['the conversation id when not', mergeProfile({ email: 'a@b.co' }, undefined), false, 'conv-1'],
  ])('is keyed by %s', (_case, profile, enriched, externalId) => {
    // Act
    const job = prechatSyncJob({ ...base, profile, enriched });

    // Assess
    expect(job).toMatchObject({ source: 'prechat', jobId: expect.stringMatching(/^prechat-[0-9a-f]{32}$/), record: { externalId, emailHash: 'e'.repeat(64) } });
    expect(job.record.channelContext).toEqual({ channel: 'webmessaging', conversationId: 'conv-1', routingQueue: 'q-gold', sessionRef: sessionReference('wm-session-secret-token') });
  });

  it('never carries the session token itself', () => {
    const job = prechatSyncJob({ ...base, profile: mergeProfile({ email: 'a@b.co' }, undefined), enriched: false });
    expect(JSON.stringify(job)).not.toContain('wm-session-secret-token');
  });

  it('gives the same conversation the same job id, whenever it is sent', () => {
    const profile = mergeProfile({ email: 'a@b.co' }, undefined);
    expect(prechatSyncJob({ ...base, profile, enriched: false }).jobId).toBe(
      prechatSyncJob({ ...base, profile, enriched: false, at: new Date('2026-01-01T00:00:00.000Z') }).jobId,
    );
  });
});
