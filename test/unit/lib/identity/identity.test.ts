import { describe, expect, it } from 'vitest';
import { normaliseIdentifier, resolveIdentity } from '#lib/identity';
import { hashIdentifier } from '#lib/identity/hash.ts';

const SALT = 'unit-test-salt';

describe('normaliseIdentifier', () => {
  it.each([
    ['+1 (555) 123-4567', '+15551234567'],
    ['+15551234567', '+15551234567'],
    ['＋１ （５５５） １２３－４５６７', '+15551234567'],
    ['٥٥٥١٢٣٤٥٦٧', '5551234567'],
    [' 555.123.4567 ', '5551234567'],
  ])('reads the phone number %j as %j', (value, expected) => {
    // Assess
    expect(normaliseIdentifier('phone', value)).toBe(expected);
  });

  it('trims and lower-cases an email', () => {
    // Assess
    expect(normaliseIdentifier('email', '  Jane.Doe@Example.COM ')).toBe('jane.doe@example.com');
  });
});

describe('resolveIdentity', () => {
  it('hashes a full-width phone number like its ASCII form, so one guest has one hash', () => {
    // Act
    const wide = resolveIdentity({ phone: '５５５１２３４５６７' }, SALT);

    // Assess
    expect(wide.phoneHash).toBe(hashIdentifier('phone', '5551234567', SALT));
    expect(wide.resolutionMethod).toBe('phone');
  });
});
