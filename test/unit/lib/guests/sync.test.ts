import { describe, expect, it } from 'vitest';
import type { Guest } from '#lib/guests/contact.ts';
import { guestSyncJob } from '#lib/guests/sync.ts';

const guest: Guest = {
  id: '3f2b6c1e-9a7d-4e1b-8c2a-1d2e3f4a5b6c',
  createdDate: '2025-03-01T10:00:00.000Z',
  modifiedDate: '2025-03-01T10:30:00.000Z',
  identityAttributes: { emailHash: 'e'.repeat(64), deviceFingerprint: 'fp' },
  consent: { marketing: true, dataProcessing: true },
  channelContext: { originPage: 'https://example.com/help', campaignId: 'SPRING' },
  attributes: { tier: 'gold', visits: 3 },
};

describe('guestSyncJob', () => {
  it('carries the guest as a CRM record keyed by the guest id', () => {
    // Act
    const job = guestSyncJob(guest, '"2"', new Date('2025-03-01T10:31:00.000Z'));

    // Assess
    expect(job).toEqual({
      v: 1,
      kind: 'crm.upsert',
      jobId: expect.stringMatching(/^guest-[0-9a-f]{32}$/),
      source: 'guest',
      enqueuedAt: '2025-03-01T10:31:00.000Z',
      record: {
        externalId: guest.id,
        emailHash: 'e'.repeat(64),
        consentFlags: { marketing: true, dataProcessing: true },
        attributes: { tier: 'gold', visits: 3 },
        channelContext: { originPage: 'https://example.com/help', campaignId: 'SPRING' },
        lastInteraction: guest.modifiedDate,
        sourceUpdatedAt: guest.modifiedDate,
      },
    });
  });

  it('gives the same version of a guest the same job id, whenever it is sent', () => {
    expect(guestSyncJob(guest, '"2"', new Date(1)).jobId).toBe(guestSyncJob(guest, '"2"', new Date(2)).jobId);
  });

  it.each([
    ['another version', '"3"', guest],
    ['another state', '"2"', { ...guest, attributes: { tier: 'silver' } }],
  ])('gives %s another job id', (_case, etag, changed) => {
    expect(guestSyncJob(changed, etag).jobId).not.toBe(guestSyncJob(guest, '"2"').jobId);
  });
});
