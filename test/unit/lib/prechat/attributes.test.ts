import { describe, expect, it } from 'vitest';
import { participantAttributes, toFlatAttributes } from '#lib/prechat/attributes.ts';
import { mergeProfile } from '#lib/prechat/merge.ts';
import { prechatSyncJob } from '#lib/prechat/sync.ts';

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

describe('participantAttributes', () => {
  const profile = mergeProfile(
    { email: 'jane@example.com', phone: '+44 20 7946 0958', subject: 'Refund for order 42, call me on 555-123-4567', priority: 'high' },
    { id: 'cust-1', firstName: 'Jane', lastName: 'Doe', loyaltyTier: 'gold', accountStatus: 'active', loyaltyPoints: 50 },
  );
  const routing = { routingQueue: 'gold', routingQueueId: 'q-gold' };

  it('are the merged profile as strings under prechat:, identifiers masked', () => {
    // Act
    const attributes = participantAttributes(profile, true, routing);

    // Assess
    expect(attributes).toEqual({
      'prechat:customerId': 'cust-1',
      'prechat:firstName': 'Jane',
      'prechat:lastName': 'Doe',
      'prechat:loyaltyTier': 'gold',
      'prechat:accountStatus': 'active',
      'prechat:loyaltyPoints': '50',
      'prechat:subject': 'Refund for order 42, call me on ***-***-****',
      'prechat:priority': 'high',
      'prechat:enriched': 'true',
      'prechat:routingQueue': 'gold',
      'prechat:routingQueueId': 'q-gold',
    });
  });

  it('carry neither the email nor the phone of the survey', () => {
    // Act
    const written = JSON.stringify(participantAttributes(profile, true, routing));

    // Assess
    expect(written).not.toContain('jane@example.com');
    expect(written).not.toMatch(/7946/);
  });

  it('leave out what the CRM did not know', () => {
    // Act
    const attributes = participantAttributes(mergeProfile({ phone: '555-123-4567' }, undefined), false, { routingQueue: 'standard', routingQueueId: 'q-std' });

    // Assess
    expect(attributes).toEqual({
      'prechat:loyaltyTier': 'standard',
      'prechat:accountStatus': 'active',
      'prechat:subject': 'General Inquiry',
      'prechat:priority': 'normal',
      'prechat:enriched': 'false',
      'prechat:routingQueue': 'standard',
      'prechat:routingQueueId': 'q-std',
    });
  });

  it('never share a name with an attribute prefill can prepare (its keys cannot hold ":")', () => {
    // Prepare: the prefill key rule of docs/api.md section 2.
    const prefillKey = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

    // Act
    const names = Object.keys(participantAttributes(profile, true, routing));

    // Assess
    expect(names.filter((name) => prefillKey.test(name))).toEqual([]);
  });
});

describe('prechatSyncJob', () => {
  const base = {
    identity: { emailHash: 'e'.repeat(64), resolutionMethod: 'email' as const },
    conversationId: '0b7a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d',
    participantId: '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f',
    routing: { routingQueue: 'gold', routingQueueId: 'q-gold' },
    at: new Date('2025-03-01T10:00:00.000Z'),
  };

  it.each([
    ['the CRM customer id when enriched', mergeProfile({ email: 'a@b.co' }, { id: 'cust-1' }), true, 'cust-1'],
    ['the conversation id when not', mergeProfile({ email: 'a@b.co' }, undefined), false, base.conversationId],
  ])('is keyed by %s', (_case, profile, enriched, externalId) => {
    // Act
    const job = prechatSyncJob({ ...base, profile, enriched });

    // Assess
    expect(job).toMatchObject({ source: 'prechat', jobId: expect.stringMatching(/^prechat-[0-9a-f]{32}$/), record: { externalId, emailHash: 'e'.repeat(64) } });
    expect(job.record.channelContext).toEqual({
      channel: 'webmessaging',
      conversationId: base.conversationId,
      participantId: base.participantId,
      routingQueue: 'gold',
      routingQueueId: 'q-gold',
    });
  });

  it('gives the same enrichment the same job id, whenever it is sent (a retried Data Action)', () => {
    const profile = mergeProfile({ email: 'a@b.co' }, undefined);
    expect(prechatSyncJob({ ...base, profile, enriched: false }).jobId).toBe(
      prechatSyncJob({ ...base, profile, enriched: false, at: new Date('2026-01-01T00:00:00.000Z') }).jobId,
    );
  });
});
