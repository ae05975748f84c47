import { describe, expect, it } from 'vitest';
import { containsIdentifier, maskIdentifiers, PHONE_MASK, SSN_MASK } from '#lib/pii';

describe('maskIdentifiers', () => {
  describe('emails become `*` of the same length', () => {
    it.each([
      'jane.doe@enterprise.com',
      'JANE.DOE@ENTERPRISE.COM',
      'jane+chat@mail.example.co.uk',
      'j_doe-99%x@sub-domain.example.io',
      'guest5551234567@example.com',
    ])('%s', (email) => {
      // Act
      const result = maskIdentifiers(email);

      // Assess
      expect(result).toEqual({ value: '*'.repeat(email.length), masked: true });
    });
  });

  describe('phone numbers become ***-***-****', () => {
    it.each([
      '555-123-4567',
      '(555) 123-4567',
      '(555)123-4567',
      '555.123.4567',
      '555 123 4567',
      '5551234567',
      '+14155552671',
      '+1 415 555 2671',
      '+1 (555) 123-4567',
      '+44 20 7946 0958',
      '+33 1 23 45 67 89',
      '+4915112345678',
    ])('%s', (phone) => {
      // Act
      const result = maskIdentifiers(phone);

      // Assess
      expect(result).toEqual({ value: PHONE_MASK, masked: true });
    });
  });

  describe('grouped national numbers with a trunk 0 become ***-***-****', () => {
    it.each(['020 7946 0958', '07700 900123', '01 23 45 67 89', '01.23.45.67.89', '030 12345678', '0612-345678'])('%s', (phone) => {
      // Act
      const result = maskIdentifiers(phone);

      // Assess
      expect(result).toEqual({ value: PHONE_MASK, masked: true });
    });
  });

  describe('trunk-0 look-alikes stay', () => {
    it.each([
      ['a zero-padded id', '000123456'],
      ['a double zero prefix', '00 12 34 56 78'],
      ['a short grouped number', '01 23 45'],
      ['a date', '01 02 2024'],
      ['a padded IPv4 address', '010.123.045.067'],
      ['a trunk-0 run of 12 digits', '012 3456 78901'],
    ])('%s: %j', (_case, text) => {
      // Act
      const result = maskIdentifiers(text);

      // Assess
      expect(result).toEqual({ value: text, masked: false });
    });
  });

  describe('social security numbers become ***-**-****', () => {
    it.each(['123-45-6789', '123 45 6789'])('%s', (ssn) => {
      // Act
      const result = maskIdentifiers(ssn);

      // Assess
      expect(result).toEqual({ value: SSN_MASK, masked: true });
    });
  });

  it('uses the masks the contract prescribes', () => {
    // Assess
    expect(PHONE_MASK).toBe('***-***-****');
    expect(SSN_MASK).toBe('***-**-****');
  });

  describe('identifiers inside text are masked in place, the rest is kept', () => {
    it.each([
      ['Please call me on 555-123-4567 after 5pm', 'Please call me on ***-***-**** after 5pm'],
      ['Email jane.doe@enterprise.com, thanks!', `Email ${'*'.repeat(23)}, thanks!`],
      ['SSN: 123-45-6789.', 'SSN: ***-**-****.'],
      ['UK office +44 20 7946 0958 (London)', 'UK office ***-***-**** (London)'],
      [
        'Reach jane@x.io or (555) 123-4567; ssn 123 45 6789',
        'Reach ********* or ***-***-****; ssn ***-**-****',
      ],
      ['line one\n5551234567\nline three', 'line one\n***-***-****\nline three'],
      ['{"phone":"+14155552671","tier":"gold"}', '{"phone":"***-***-****","tier":"gold"}'],
      ['Ünïcödé name, mail joerg@example.de, café', 'Ünïcödé name, mail ****************, café'],
    ])('%j', (text, expected) => {
      // Act
      const result = maskIdentifiers(text);

      // Assess
      expect(result).toEqual({ value: expected, masked: true });
    });
  });

  it('masks an email before its digits could be read as a phone number', () => {
    // Prepare
    const text = 'contact 5551234567@example.com';

    // Act
    const result = maskIdentifiers(text);

    // Assess
    expect(result.value).toBe(`contact ${'*'.repeat(22)}`);
  });

  it('masks an internationalised email (non-ASCII local part) completely, leaking no part of it', () => {
    // Prepare
    const email = 'jörg.müller@example.de';

    // Act
    const result = maskIdentifiers(`mail ${email} please`);

    // Assess
    expect(result.value).toBe(`mail ${'*'.repeat(email.length)} please`);
  });

  it('masks every occurrence, not only the first', () => {
    // Act
    const result = maskIdentifiers('555-123-4567 / 555-765-4321 / 555-000-1111');

    // Assess
    expect(result.value).toBe('***-***-**** / ***-***-**** / ***-***-****');
  });

  describe('leaves values that are not identifiers untouched', () => {
    it.each([
      ['a US zip code', '02134'],
      ['a zero-padded number', '00123'],
      ['a 7-digit local number', '555-1234'],
      ['an exponent', '1e3'],
      ['an ISO timestamp', '2024-06-01T12:34:56.789Z'],
      ['an ISO timestamp with an offset', '2024-06-01T12:34:56+01:00'],
      ['a date and time', '2024-01-15 10:30:00'],
      ['a UUID', '550e8400-e29b-41d4-a716-446655440000'],
      ['an all-digit UUID', '12345678-1234-5678-1234-567812345678'],
      ['an order number', 'ORD-2024-000123'],
      ['an epoch in milliseconds', '1700000000000'],
      ['a 13-digit number', '1234567890123'],
      ['a price', '$1,234.56'],
      ['an IPv4 address', '192.168.100.200'],
      ['a handle with an at sign', '@jane_doe'],
      ['unicode text', 'Grüße aus Köln 🌷 日本語のテキスト'],
      ['plain words', 'gold tier, General Inquiry'],
      ['an empty string', ''],
      ['the masks themselves', '***-***-**** and ***-**-****'],
    ])('%s: %j', (_case, text) => {
      // Act
      const result = maskIdentifiers(text);

      // Assess
      expect(result).toEqual({ value: text, masked: false });
    });
  });

  it('is idempotent: masking a masked value changes nothing', () => {
    // Prepare
    const once = maskIdentifiers('jane.doe@enterprise.com 555-123-4567 123-45-6789').value;

    // Act
    const twice = maskIdentifiers(once);

    // Assess
    expect(twice).toEqual({ value: once, masked: false });
  });
});

describe('containsIdentifier', () => {
  it.each([
    ['jane.doe@enterprise.com', true],
    ['call (555) 123-4567', true],
    ['+44 20 7946 0958', true],
    ['123-45-6789', true],
    ['order ORD-2024-000123', false],
    ['02134', false],
    ['555-1234', false],
    ['', false],
  ])('%j -> %s', (text, expected) => {
    // Act
    const found = containsIdentifier(text);

    // Assess
    expect(found).toBe(expected);
  });

  it('gives the same answer however often it is asked (no regex state leaks between calls)', () => {
    // Act
    const answers = Array.from({ length: 4 }, () => containsIdentifier('555-123-4567'));

    // Assess
    expect(answers).toEqual([true, true, true, true]);
  });
});
