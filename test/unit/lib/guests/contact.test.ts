/** A guest as an external contact and back (pure): custom fields, external ids, the strong ETag. */
import { describe, expect, it } from 'vitest';
import { guestEtag, guestFromContact, type Guest } from '#lib/guests/contact.ts';
import { updatedGuestContact } from '#lib/guests/contact.ts';
import { SETTINGS } from './support.ts';

const guest: Guest = {
  id: 'g-1',
  identityAttributes: { emailHash: 'e'.repeat(64) },
  consent: { marketing: true, dataProcessing: true },
  channelContext: { originPage: 'https://example.com/a', campaignId: 'X' },
  attributes: { tier: 'gold', visits: 3, vip: false },
  createdDate: '2026-11-30T10:00:00.000Z',
  modifiedDate: '2026-11-30T11:00:00.000Z',
};

describe('guestEtag', () => {
  it('is a strong entity tag, the same for the same version', () => {
    expect(guestEtag(guest)).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(guestEtag(structuredClone(guest))).toBe(guestEtag(guest));
  });

  it('does not depend on the order attributes arrive in', () => {
    expect(guestEtag({ ...guest, attributes: { vip: false, visits: 3, tier: 'gold' } })).toBe(guestEtag(guest));
  });

  it.each<[string, Partial<Guest>]>([
    ['another modifyDate (a write that changed nothing the suite manages)', { modifiedDate: '2026-11-30T11:00:00.001Z' }],
    ['one consent flag', { consent: { marketing: false, dataProcessing: true } }],
    ['one attribute', { attributes: { ...guest.attributes, tier: 'silver' } }],
    ['an attribute\'s type', { attributes: { ...guest.attributes, visits: '3' } }],
    ['the campaign', { channelContext: { originPage: 'https://example.com/a', campaignId: 'Y' } }],
    ['a hash', { identityAttributes: { emailHash: 'f'.repeat(64) } }],
  ])('changes with %s', (_case, change) => {
    expect(guestEtag({ ...guest, ...change })).not.toBe(guestEtag(guest));
  });
});

describe('updatedGuestContact', () => {
  it('keeps what is not the suite\'s (other sources\' ids, other fields, the create key) and replaces the guest fields', () => {
    // Prepare
    const latest = {
      id: 'g-1',
      modifyDate: '2026-11-30T11:00:00.000Z',
      title: 'set by an agent',
      schema: { id: SETTINGS.contactSchemaId, version: 1 },
      externalIds: [
        { externalSource: { id: SETTINGS.externalSourceId }, value: `email:${'e'.repeat(64)}` },
        { externalSource: { id: SETTINGS.externalSourceId }, value: 'create:k-1' },
        { externalSource: { id: 'crm-source' }, value: 'cust-1001' },
      ],
      customFields: { marketingConsent_checkbox: false, attributes1_longtext: '{"old":1}', attributes2_longtext: 'stale' },
    };

    // Act
    const body = updatedGuestContact(SETTINGS, latest, { identityAttributes: { phoneHash: 'p'.repeat(64) }, consent: { marketing: true, dataProcessing: false }, attributes: {} });

    // Assess
    expect(body).toEqual({
      title: 'set by an agent',
      schema: { id: SETTINGS.contactSchemaId, version: 1 },
      externalIds: [
        { externalSource: { id: SETTINGS.externalSourceId }, value: `phone:${'p'.repeat(64)}` },
        { externalSource: { id: SETTINGS.externalSourceId }, value: 'create:k-1' },
        { externalSource: { id: 'crm-source' }, value: 'cust-1001' },
      ],
      customFields: { marketingConsent_checkbox: true, dataProcessingConsent_checkbox: false },
    });
  });
});

describe('guestFromContact', () => {
  it('refuses (502) attributes that are no longer JSON (edited outside the suite) rather than dropping them', () => {
    // Prepare
    const contact = { id: 'g-1', schema: { id: SETTINGS.contactSchemaId, version: 1 }, customFields: { attributes1_longtext: '{"tier":' } };

    // Act
    const read = (): unknown => guestFromContact(SETTINGS, contact);

    // Assess
    expect(read).toThrow(expect.objectContaining({ status: 502 }));
  });
});
