import { describe, expect, it } from 'vitest';
import type { Guest } from '#lib/genesys';
import { engagementMetrics } from '#lib/guests';

const NOW = new Date('2025-03-01T12:00:00.000Z');
const guest = (fields: Partial<Guest>): Guest => ({
  id: 'g-1',
  createdDate: '2025-03-01T10:00:00.000Z',
  modifiedDate: '2025-03-01T10:30:00.000Z',
  ...fields,
});

describe('engagementMetrics', () => {
  it.each<[string, Partial<Guest>, Partial<ReturnType<typeof engagementMetrics>>]>([
    ['an open session lasts until its last change', {}, { durationMinutes: 30 }],
    ['a closed session lasts until it closed', { closedDate: '2025-03-01T11:15:30.000Z' }, { durationMinutes: 75.5 }],
    ['minutes keep two decimals', { modifiedDate: '2025-03-01T10:00:20.000Z' }, { durationMinutes: 0.33 }],
    ['a close before the creation counts as no time', { closedDate: '2025-03-01T09:00:00.000Z' }, { durationMinutes: 0 }],
    ['unparseable dates count as no time', { createdDate: 'yesterday' }, { durationMinutes: 0 }],
    ['counters Genesys keeps are reported', { messageCount: 12, avgResponseTimeMs: 4200.4 }, { messageCount: 12, avgResponseTimeMs: 4200 }],
    ['no counters: zero messages, unknown response time', {}, { messageCount: 0, avgResponseTimeMs: null }],
    ['a negative count is no count', { messageCount: -3 }, { messageCount: 0 }],
    ['Genesys\' conversion flag wins', { conversionFlag: true, attributes: { converted: 'false' } }, { conversionFlag: true }],
    ['else the converted attribute "true"', { attributes: { converted: 'true' } }, { conversionFlag: true }],
    ['or true', { attributes: { converted: true } }, { conversionFlag: true }],
    ['anything else is not a conversion', { attributes: { converted: 'yes' } }, { conversionFlag: false }],
  ])('%s', (_case, fields, expected) => {
    // Act
    const result = engagementMetrics(guest(fields), NOW);

    // Assess
    expect(result).toMatchObject({ guestId: 'g-1', calculatedAt: NOW.toISOString(), ...expected });
  });

  it('answers exactly the contract fields', () => {
    expect(Object.keys(engagementMetrics(guest({}), NOW)).sort()).toEqual(
      ['avgResponseTimeMs', 'calculatedAt', 'conversionFlag', 'durationMinutes', 'guestId', 'messageCount'],
    );
  });
});
