import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PayloadTooLargeError } from '#lib/errors';
import { coerceValue, MAX_PREFILL_BYTES, maskValue, messengerAttributes, processPrefill } from '#lib/prefill/process.ts';
import type { PrefillBody } from '#lib/prefill/schema.ts';

const SALT = 'unit-test-salt';
const sha = (value: string): string => createHash('sha256').update(`${SALT}:${value}`).digest('hex');
const stars = (text: string): string => '*'.repeat(text.length);

/** A body whose processed `{attributes}` serialises to exactly `bytes` bytes. */
function bodyOfBytes(bytes: number): PrefillBody {
  const overhead = Buffer.byteLength(JSON.stringify({ attributes: { note: '' } }), 'utf8');
  return { attributes: { note: 'x'.repeat(bytes - overhead) } };
}

describe('maskValue', () => {
  describe.each([
    ['the seed email', 'contact', 'jane.doe@enterprise.com', stars('jane.doe@enterprise.com'), true],
    ['the seed phone', 'contact', '555-123-4567', '***-***-****', true],
    ['an SSN', 'note', '123-45-6789', '***-**-****', true],
    ['an SSN written with spaces', 'note', '123 45 6789', '***-**-****', true],
    ['an E.164 number', 'mobile', '+14155552671', '***-***-****', true],
    ['a grouped E.164 number', 'mobile', '+44 20 7946 0958', '***-***-****', true],
    ['a UK national number', 'landline', '020 7946 0958', '***-***-****', true],
    ['a French national number', 'landline', '01 23 45 67 89', '***-***-****', true],
    ['a phone in a sentence', 'note', 'Call me on (555) 123-4567 after 5pm', 'Call me on ***-***-**** after 5pm', true],
    ['an email in a sentence', 'note', 'Write to jane@x.io, thanks', `Write to ${stars('jane@x.io')}, thanks`, true],
    ['an SSN and a phone side by side', 'note', 'ssn 123-45-6789 tel 555-987-6543', 'ssn ***-**-**** tel ***-***-****', true],
    ['a unicode email', 'note', 'mail jörg.müller@example.de bitte', `mail ${stars('jörg.müller@example.de')} bitte`, true],
    ['a zip code', 'zip', '02134', '02134', false],
    ['an id with leading zeros', 'customerId', '000123456', '000123456', false],
    ['an order number', 'order', 'ORD-2024-000123', 'ORD-2024-000123', false],
    ['a 7-digit local number', 'ext', '555-1234', '555-1234', false],
    ['an exponent', 'code', '1e3', '1e3', false],
    ['unicode text', 'greeting', 'Grüße aus Köln 🌷 日本語', 'Grüße aus Köln 🌷 日本語', false],
    ['an empty string', 'note', '', '', false],
    ['a boolean', 'vip', true, true, false],
    ['a small integer', 'visits', 42, 42, false],
    ['a decimal', 'score', 9.5, 9.5, false],
    ['an integer that reads as a phone number', 'callback', 5551234567, '***-***-****', true],
  ])('%s', (_case, key, value, expected, masked) => {
    it(`masks ${JSON.stringify(value)} under "${key}" to ${JSON.stringify(expected)}`, () => {
      // Act
      const result = maskValue(key, value);

      // Assess
      expect(result).toEqual({ value: expected, masked });
    });
  });

  describe.each([
    ['email', 'jane@localhost', stars('jane@localhost')],
    ['email', 'JANE.DOE@ENTERPRISE.COM', stars('JANE.DOE@ENTERPRISE.COM')],
    ['phone', '555-1234', '***-***-****'],
    ['phone', '+1 (555) 123-4567', '***-***-****'],
    ['phone', 5551234567, '***-***-****'],
  ])('the identity key %s', (key, value, expected) => {
    it(`is masked whole even as ${JSON.stringify(value)}`, () => {
      // Act
      const result = maskValue(key, value);

      // Assess
      expect(result).toEqual({ value: expected, masked: true });
    });
  });
});

describe('coerceValue', () => {
  describe.each([
    ['"true"', 'true', true],
    ['"false"', 'false', false],
    ['"42"', '42', 42],
    ['"-1.5"', '-1.5', -1.5],
    ['"0"', '0', 0],
    ['"0.25"', '0.25', 0.25],
    ['"00123" (leading zeros)', '00123', '00123'],
    ['"02134" (zip code)', '02134', '02134'],
    ['"1e3" (exponent)', '1e3', '1e3'],
    ['"1.50" (trailing zero)', '1.50', '1.50'],
    ['"-0"', '-0', '-0'],
    ['" 7" (padded)', ' 7', ' 7'],
    ['"0x10" (hex)', '0x10', '0x10'],
    ['"Infinity"', 'Infinity', 'Infinity'],
    ['"NaN"', 'NaN', 'NaN'],
    ['"555-1234"', '555-1234', '555-1234'],
    ['"12345678901234567890" (beyond double precision)', '12345678901234567890', '12345678901234567890'],
    ['"TRUE" (not exactly "true")', 'TRUE', 'TRUE'],
    ['"" (empty)', '', ''],
    ['"naïve" (unicode)', 'naïve', 'naïve'],
    ['a number', 7, 7],
    ['a boolean', false, false],
  ])('%s', (_case, value, expected) => {
    it(`becomes ${JSON.stringify(expected)}`, () => {
      // Act
      const result = coerceValue(value);

      // Assess
      expect(result).toStrictEqual(expected);
    });
  });
});

describe('messengerAttributes', () => {
  it('carries every processed value as the string Genesys participant data holds', () => {
    // Prepare
    const processed = processPrefill({ attributes: { tier: 'gold', vip: 'true', visits: '3', ratio: 1.5, zip: '02134', phone: '555-123-4567' } }, 'salt');

    // Act
    const map = messengerAttributes(processed.attributes);

    // Assess
    expect(map).toEqual({ tier: 'gold', vip: 'true', visits: '3', ratio: '1.5', zip: '02134', phone: '***-***-****' });
  });
});

describe('processPrefill', () => {
  it('processes the seed example: hashes from raw values, masks, coerces, merges consent', () => {
    // Prepare
    const body: PrefillBody = {
      attributes: {
        first_name: 'Jane',
        last_name: 'Doe',
        account_tier: 'enterprise',
        preferred_language: 'en-US',
        email: 'jane.doe@enterprise.com',
        phone: '555-123-4567',
      },
      consent: { consent_terms_accepted: 'true', gdpr_data_processing: 'true', marketing_opt_in: 'false' },
    };

    // Act
    const result = processPrefill(body, SALT);

    // Assess
    expect(result.attributes).toEqual({
      first_name: 'Jane',
      last_name: 'Doe',
      account_tier: 'enterprise',
      preferred_language: 'en-US',
      email: stars('jane.doe@enterprise.com'),
      phone: '***-***-****',
      consent_terms_accepted: true,
      gdpr_data_processing: true,
      marketing_opt_in: false,
    });
    expect(result.consentFlags).toEqual({ consent_terms_accepted: true, gdpr_data_processing: true, marketing_opt_in: false });
    expect(result.maskedKeys).toEqual(['email', 'phone']);
    expect(result.emailHash).toBe(sha('jane.doe@enterprise.com'));
    expect(result.phoneHash).toBe(sha('5551234567'));
    expect(result.byteSize).toBe(Buffer.byteLength(JSON.stringify({ attributes: result.attributes }), 'utf8'));
  });

  describe.each([
    ['trimmed and lower-cased email', { email: '  Jane.Doe@Enterprise.COM ' }, 'emailHash', sha('jane.doe@enterprise.com')],
    ['E.164 phone keeps its +', { phone: '+1 (555) 123-4567' }, 'phoneHash', sha('+15551234567')],
    ['national phone reduced to digits', { phone: '555.123.4567' }, 'phoneHash', sha('5551234567')],
    ['numeric phone', { phone: 5551234567 }, 'phoneHash', sha('5551234567')],
  ])('identity hash: %s', (_case, attributes, field, expected) => {
    it('is the salted SHA-256 of the normalised raw value', () => {
      // Act
      const result = processPrefill({ attributes }, SALT);

      // Assess
      expect(result[field as 'emailHash' | 'phoneHash']).toBe(expected);
      expect(JSON.stringify(result.attributes)).not.toMatch(/jane|555|123/i);
    });
  });

  it('lets consent override an attribute of the same name', () => {
    // Act
    const result = processPrefill({ attributes: { marketing: 'no', tier: 'gold' }, consent: { marketing: true } }, undefined);

    // Assess
    expect(result.attributes).toEqual({ marketing: true, tier: 'gold' });
    expect(result.consentFlags).toEqual({ marketing: true });
  });

  it('needs no salt when there is no email or phone', () => {
    // Act
    const result = processPrefill({ attributes: { tier: 'gold' } }, undefined);

    // Assess
    expect(result).toEqual({ attributes: { tier: 'gold' }, byteSize: '{"attributes":{"tier":"gold"}}'.length, maskedKeys: [] });
  });

  it('refuses to hash without a salt (never a default one)', () => {
    // Act
    const act = () => processPrefill({ attributes: { email: 'jane@example.com' } }, undefined);

    // Assess
    expect(act).toThrow(/salt is required/);
  });

  it('masks before it coerces, so a masked number stays a masked string', () => {
    // Act
    const result = processPrefill({ attributes: { callback: '5551234567', visits: '12' } }, undefined);

    // Assess
    expect(result.attributes).toEqual({ callback: '***-***-****', visits: 12 });
    expect(result.maskedKeys).toEqual(['callback']);
  });

  describe('the size check, to the byte', () => {
    it(`accepts exactly ${MAX_PREFILL_BYTES} bytes`, () => {
      // Act
      const result = processPrefill(bodyOfBytes(MAX_PREFILL_BYTES), undefined);

      // Assess
      expect(result.byteSize).toBe(MAX_PREFILL_BYTES);
    });

    it(`refuses ${MAX_PREFILL_BYTES + 1} bytes with a 413 naming the size`, () => {
      // Act
      const act = () => processPrefill(bodyOfBytes(MAX_PREFILL_BYTES + 1), undefined);

      // Assess
      expect(act).toThrow(PayloadTooLargeError);
      expect(act).toThrow(/10241 bytes/);
    });

    it('counts UTF-8 bytes, not characters', () => {
      // Prepare: 'é' is two bytes, so half as many characters fill the limit.
      const overhead = Buffer.byteLength(JSON.stringify({ attributes: { note: '' } }), 'utf8');
      const body = { attributes: { note: 'é'.repeat((MAX_PREFILL_BYTES - overhead) / 2 + 1) } };

      // Act
      const act = () => processPrefill(body, undefined);

      // Assess
      expect(act).toThrow(PayloadTooLargeError);
    });

    it('measures the payload after masking: a phone mask longer than the number tips it over', () => {
      // Prepare: "5551234567" (10 bytes) becomes "***-***-****" (12 bytes) once masked.
      const body = bodyOfBytes(MAX_PREFILL_BYTES - 1);
      body.attributes['note'] = `5551234567${String(body.attributes['note']).slice(10)}`;
      const rawBytes = Buffer.byteLength(JSON.stringify(body), 'utf8');

      // Act
      const act = () => processPrefill(body, undefined);

      // Assess
      expect(rawBytes).toBe(MAX_PREFILL_BYTES - 1);
      expect(act).toThrow(/10241 bytes/);
    });
  });
});

describe('processPrefill: identity keys in any case, and every format issue 10 found', () => {
  it.each([
    ['Email', 'PHONE'],
    ['EMAIL', 'Phone'],
    ['email', 'phone'],
  ])('hashes %s and %s like email and phone, and masks them whole', (emailKey, phoneKey) => {
    // Act
    const processed = processPrefill({ attributes: { [emailKey]: ' Jane@Example.com ', [phoneKey]: '+1 (555) 123-4567' } }, SALT);

    // Assess
    expect(processed.emailHash).toBe(sha('jane@example.com'));
    expect(processed.phoneHash).toBe(sha('+15551234567'));
    expect(processed.attributes).toEqual({ [emailKey]: stars(' Jane@Example.com '), [phoneKey]: '***-***-****' });
  });

  it('masks a mobile number whole but does not hash it (only `phone` feeds phoneHash)', () => {
    // Act
    const processed = processPrefill({ attributes: { Mobile: '555-1234', mobile_number: 7700900123 } }, SALT);

    // Assess
    expect(processed.attributes).toEqual({ Mobile: '***-***-****', mobile_number: '***-***-****' });
    expect(processed.phoneHash).toBeUndefined();
    expect(processed.maskedKeys).toEqual(['Mobile', 'mobile_number']);
  });

  it.each([
    ['ssn', '123456789', '***-**-****'],
    ['SSN', '123456789', '***-**-****'],
    ['social_security_number', 123456789, '***-**-****'],
    ['orderId', '123456789', 123456789],
    ['note', '+44 (0)20 7946 0958', '***-***-****'],
    ['note', '0044 20 7946 0958', '***-***-****'],
    ['note', '(+33) 6 12 34 56 78', '***-***-****'],
    ['note', '15551234567', '***-***-****'],
    ['note', 447911123456, '***-***-****'],
    ['note', 'call_5551234567', 'call_***-***-****'],
    ['note', '５５５１２３４５６７', '***-***-****'],
    ['note', '123.45.6789', '***-**-****'],
    ['note', "o'brien@example.com", stars("o'brien@example.com")],
    ['note', 'user@localhost', stars('user@localhost')],
    ['note', 'user@[192.0.2.1]', stars('user@[192.0.2.1]')],
    ['note', 'ORD-123456', 'ORD-123456'],
    ['price', '1,299.00', '1,299.00'],
  ])('%s: %j becomes %j', (key, value, expected) => {
    // Act
    const processed = processPrefill({ attributes: { [key]: value } }, SALT);

    // Assess
    expect(processed.attributes[key]).toEqual(expected);
  });
});
