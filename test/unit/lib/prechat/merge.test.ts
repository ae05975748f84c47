import { describe, expect, it } from 'vitest';
import type { CrmCustomer } from '#lib/crm';
import { PROFILE_DEFAULTS, mergeProfile, queueForTier, type EnrichedProfile } from '#lib/prechat/merge.ts';

const crm: CrmCustomer = {
  id: 'cust-42',
  firstName: 'Jane',
  lastName: 'Doe',
  loyaltyTier: 'platinum',
  accountStatus: 'suspended',
  loyaltyPoints: 980,
};
const survey = { email: 'jane@example.com', subject: 'Billing question', priority: 'high' };

describe('mergeProfile: who wins, field by field', () => {
  // Each row: the field, its value with both sides present, with the CRM missing, and the winner.
  describe.each<[keyof EnrichedProfile, unknown, unknown, 'crm' | 'survey']>([
    ['customerId', 'cust-42', undefined, 'crm'],
    ['firstName', 'Jane', undefined, 'crm'],
    ['lastName', 'Doe', undefined, 'crm'],
    ['loyaltyTier', 'platinum', PROFILE_DEFAULTS.loyaltyTier, 'crm'],
    ['accountStatus', 'suspended', PROFILE_DEFAULTS.accountStatus, 'crm'],
    ['loyaltyPoints', 980, undefined, 'crm'],
    ['subject', 'Billing question', 'Billing question', 'survey'],
    ['priority', 'high', 'high', 'survey'],
  ])('%s', (field, withBoth, withoutCrm, winner) => {
    it(`comes from the ${winner} when both sides are there`, () => {
      expect(mergeProfile(survey, crm)[field]).toEqual(withBoth);
    });

    it(`is ${JSON.stringify(withoutCrm)} without a CRM record`, () => {
      expect(mergeProfile(survey, undefined)[field]).toEqual(withoutCrm);
    });
  });

  describe('defaults when neither side has the value', () => {
    it.each([
      ['loyaltyTier', 'standard'],
      ['accountStatus', 'active'],
      ['subject', 'General Inquiry'],
      ['priority', 'normal'],
    ] as const)('%s = %s', (field, value) => {
      expect(mergeProfile({ phone: '555-123-4567' }, { id: 'cust-1' })[field]).toBe(value);
    });
  });

  describe('partial CRM records', () => {
    it.each<[string, CrmCustomer, Partial<EnrichedProfile>]>([
      ['only an id', { id: 'cust-7' }, { customerId: 'cust-7', loyaltyTier: 'standard', accountStatus: 'active' }],
      ['a blank tier falls back to the default', { id: 'cust-7', loyaltyTier: '  ' }, { loyaltyTier: 'standard' }],
      ['a tier in capitals is lower-cased for routing', { id: 'cust-7', loyaltyTier: 'Gold' }, { loyaltyTier: 'gold' }],
      ['zero points are kept', { id: 'cust-7', loyaltyPoints: 0 }, { loyaltyPoints: 0 }],
      ['a name without a last name', { id: 'cust-7', firstName: 'Jane' }, { firstName: 'Jane' }],
    ])('%s', (_case, record, expected) => {
      expect(mergeProfile({ email: 'a@b.co' }, record)).toMatchObject(expected);
    });

    it('leaves unknown names and points out instead of inventing them', () => {
      const merged = mergeProfile({ email: 'a@b.co' }, { id: 'cust-7' });
      expect(Object.keys(merged).sort()).toEqual(['accountStatus', 'customerId', 'loyaltyTier', 'priority', 'subject']);
    });
  });

  it('treats a blank survey subject or priority as missing', () => {
    expect(mergeProfile({ email: 'a@b.co', subject: ' ', priority: '' }, crm)).toMatchObject({ subject: 'General Inquiry', priority: 'normal' });
  });

  it('never puts the survey email or phone into the profile', () => {
    expect(JSON.stringify(mergeProfile({ email: 'jane@example.com', phone: '555-123-4567' }, crm))).not.toMatch(/jane@|555/);
  });
});

describe('queueForTier', () => {
  const queues = { platinum: 'q-plat', gold: 'q-gold', standard: 'q-std', bronze: '' };
  it.each([
    ['platinum', 'platinum', 'q-plat'],
    ['gold', 'gold', 'q-gold'],
    ['standard', 'standard', 'q-std'],
    ['diamond', 'standard', 'q-std'],
    ['constructor', 'standard', 'q-std'],
    ['bronze', 'standard', 'q-std'],
    ['', 'standard', 'q-std'],
  ])('%s -> the %s queue (%s)', (tier, routingQueue, routingQueueId) => {
    expect(queueForTier(tier, queues)).toEqual({ routingQueue, routingQueueId });
  });
});
