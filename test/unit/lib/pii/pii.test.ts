import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { containsIdentifier, identityKeyKind, maskDeep, maskIdentifiers, maskScalar } from '#lib/pii';
import { identifierKindOfKey } from '#lib/pii/keys.ts';
import { PHONE_MASK, SSN_MASK } from '#lib/pii/mask.ts';

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

describe('the formats issue 10 found unmasked', () => {
  describe.each([
    ['an international number with a (0) trunk', '+44 (0)20 7946 0958'],
    ['a 00 international prefix', '0044 20 7946 0958'],
    ['a bracketed country code', '(+33) 6 12 34 56 78'],
    ['a NANP number with its 1, no separators', '15551234567'],
    ['a NANP number with its 1 and spaces', '1 555 123 4567'],
    ['an international number without its +', '447911123456'],
    ['a German mobile without its +', '4915112345678'],
    ['full-width digits', '５５５１２３４５６７'],
    ['full-width digits and punctuation', '（５５５）１２３－４５６７'],
    ['Arabic-Indic digits', '٥٥٥١٢٣٤٥٦٧'],
    ['no-break spaces between groups', '+44\u00a020\u00a07946\u00a00958'],
    ['a Unicode hyphen', '555\u2010123\u20104567'],
  ])('phone: %s', (_case, phone) => {
    it('becomes ***-***-****', () => {
      // Act
      const result = maskIdentifiers(phone);

      // Assess
      expect(result).toEqual({ value: PHONE_MASK, masked: true });
    });
  });

  describe.each([
    ['digits run into a word with _', 'call_5551234567', 'call_***-***-****'],
    ['digits run into letters', 'tel5551234567', 'tel***-***-****'],
    ['dotted digits after a word', 'tel.555.123.4567', 'tel.***-***-****'],
    ['a phone glued to a key-like prefix', 'mobile:+447911123456;', 'mobile:***-***-****;'],
    ['full-width digits in a sentence', '電話は５５５１２３４５６７です', '電話は***-***-****です'],
  ])('phone inside text: %s', (_case, text, expected) => {
    it('is masked in place', () => {
      // Act
      const result = maskIdentifiers(text);

      // Assess
      expect(result).toEqual({ value: expected, masked: true });
    });
  });

  describe.each([
    ['dots', '123.45.6789'],
    ['dots inside text', 'ssn_123.45.6789'],
  ])('SSN with %s', (_case, text) => {
    it('is masked', () => {
      // Act
      const result = maskIdentifiers(text);

      // Assess
      expect(result.masked).toBe(true);
      expect(result.value).toContain(SSN_MASK);
      expect(result.value).not.toMatch(/6789/);
    });
  });

  describe.each([
    ["an apostrophe in the local part", "o'brien@example.com"],
    ['an IDN domain', 'user@bücher.de'],
    ['a punycode domain', 'user@xn--bcher-kva.de'],
    ['a single-label host', 'user@localhost'],
    ['an IPv4 address literal', 'user@[192.0.2.1]'],
    ['an IPv6 address literal', 'user@[IPv6:2001:db8::1]'],
    ['a quoted local part', '"john doe"@example.com'],
    ['a full-width address', 'ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ'],
    ['unusual atext', "first.o'last+tag!#$%^~_@sub.example.museum"],
    ['a Chinese address', '用户@例子.公司'],
  ])('email: %s', (_case, email) => {
    it('becomes * of the same length', () => {
      // Act
      const result = maskIdentifiers(email);

      // Assess
      expect(result).toEqual({ value: '*'.repeat(email.length), masked: true });
    });
  });

  it('masks an email in a URL query without swallowing the URL', () => {
    // Act
    const result = maskIdentifiers('https://example.com/contact?to=jane@example.com&x=1');

    // Assess
    expect(result.value).toBe(`https://example.com/contact?to=${'*'.repeat(16)}&x=1`);
  });
});

describe('false positives kept low: values that are not identifiers stay as they are', () => {
  describe.each([
    ['an order number', 'ORD-123456'],
    ['an order number in words', 'order 100234'],
    ['a long order number', 'ORD-2024-000123'],
    ['a price with a thousands separator', '1,299.00'],
    ['a price with a currency sign', '$1234.56'],
    ['a big price', '$1,234,567.89'],
    ['an ISO date-time', '2024-05-01T10:20:30Z'],
    ['an ISO date-time with milliseconds and offset', '2024-05-01T10:20:30.123+02:00'],
    ['a date', '2024-05-01'],
    ['a compact timestamp', '20240501102030'],
    ['a UUID', '550e8400-e29b-41d4-a716-446655440000'],
    ['an all-digit UUID', '12345678-1234-5678-1234-567812345678'],
    ['a 64-hex hash', '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
    ['a 64-hex hash made of digits only', '5551234567555123456755512345675551234567555123456755512345675555'],
    ['a version', '1.2.3.4'],
    ['a long version', 'v10.20.300.4000'],
    ['a US zip code', '02134'],
    ['a ZIP+4 code', '94105-1234'],
    ['a UK postcode', 'SW1A 1AA'],
    ['a URL without an IP', 'https://example.com/products/12345?ref=abc'],
    ['epoch seconds', '1700000000'],
    ['epoch milliseconds', '1700000000000'],
    ['a 13-digit number', '1234567890123'],
    ['nine digits not under an SSN key', '123456789'],
    ['a decimal with many places', '0.5551234567'],
    ['an IPv4 address', '192.168.100.200'],
    ['a 7-digit local number', '555-1234'],
    ['a percentage', '99.95%'],
    ['a quantity and unit', '12 x 250 ml'],
    ['a credit of points', '+500 points'],
    ['a handle', '@jane_doe'],
    ['an at sign between numbers', '3 @ 4.99'],
  ])('%s: %j', (_case, text) => {
    it('is not masked', () => {
      // Act
      const result = maskIdentifiers(text);

      // Assess
      expect(result).toEqual({ value: text, masked: false });
    });
  });
});

describe('maskScalar: one value in the context of its key', () => {
  describe.each([
    ['email', 'jane@intranet', '*'.repeat('jane@intranet'.length)],
    ['Email', 'jane.doe@example.com', '*'.repeat(20)],
    ['EMAIL', 'not-an-address', '*'.repeat(14)],
    ['e-mail', 'x@y.z', '*****'],
    ['phone', '555-1234', PHONE_MASK],
    ['PHONE', '12', PHONE_MASK],
    ['Mobile', '07700 900123', PHONE_MASK],
    ['mobile_phone', 'ask me', PHONE_MASK],
    ['tel', '+44 20 7946 0958', PHONE_MASK],
    ['ssn', '123456789', SSN_MASK],
    ['SSN', '123 45 6789', SSN_MASK],
    ['social_security_number', '123456789', SSN_MASK],
    ['SocialSecurityNumber', '123-45-6789', SSN_MASK],
  ])('under %s', (key, value, expected) => {
    it(`masks ${JSON.stringify(value)} whole`, () => {
      // Act
      const result = maskScalar(key, value);

      // Assess
      expect(result).toEqual({ value: expected, masked: true });
    });
  });

  it.each([
    ['phone', 5551234567, PHONE_MASK],
    ['ssn', 123456789, SSN_MASK],
    ['note', 5551234567, PHONE_MASK],
    ['note', 15551234567, PHONE_MASK],
    ['note', 447911123456, PHONE_MASK],
  ])('masks the number under %s: %d', (key, value, expected) => {
    // Act
    const result = maskScalar(key, value);

    // Assess
    expect(result).toEqual({ value: expected, masked: true });
  });

  it.each([
    ['orderId', 123456789],
    ['total', 1299],
    ['visits', 3],
    ['createdAt', 1700000000000],
    ['ratio', 5551234567.5],
    ['ssn_verified', true],
    ['phone', false],
    ['email', ''],
    ['note', 'ORD-123456'],
  ])('keeps %s: %j', (key, value) => {
    // Act
    const result = maskScalar(key, value);

    // Assess
    expect(result).toEqual({ value, masked: false });
  });

  it('does not mistake hash or id keys for identifier keys', () => {
    // Act
    const hash = maskScalar('emailHash', 'a'.repeat(64));
    const id = maskScalar('phoneVerified', 'yes');

    // Assess
    expect(hash.masked).toBe(false);
    expect(id.masked).toBe(false);
  });
});

describe('maskDeep', () => {
  it('masks every string and number in the context of its own key, deep', () => {
    // Prepare
    const record = { attributes: { Email: 'x@y', note: 'call 555-123-4567', n: 5551234567, tier: 'gold', nested: [{ ssn: '123456789' }] } };

    // Act
    const masked = maskDeep(record);

    // Assess
    expect(masked).toEqual({ attributes: { Email: '***', note: `call ${PHONE_MASK}`, n: PHONE_MASK, tier: 'gold', nested: [{ ssn: SSN_MASK }] } });
  });
});

describe('identifierKindOfKey and identityKeyKind', () => {
  it.each([
    ['email', 'email', 'email'],
    ['Email', 'email', 'email'],
    ['E_Mail', 'email', undefined],
    ['PHONE', 'phone', 'phone'],
    ['Mobile', 'phone', undefined],
    ['mobile_number', 'phone', undefined],
    ['SSN', 'ssn', undefined],
    ['tier', undefined, undefined],
    ['emailHash', undefined, undefined],
  ])('%s names %s (hashed as %s)', (key, named, hashed) => {
    // Assess
    expect(identifierKindOfKey(key)).toBe(named);
    expect(identityKeyKind(key)).toBe(hashed);
  });
});

describe('properties', () => {
  const digit = fc.integer({ min: 0, max: 9 }).map(String);
  const digits = (n: number) => fc.array(digit, { minLength: n, maxLength: n }).map((d) => d.join(''));
  const sep = fc.constantFrom('', ' ', '-', '.');
  /** A North American number in a random common layout. */
  const nanp = fc
    .tuple(fc.integer({ min: 2, max: 9 }), digits(2), digits(3), digits(4), sep, sep, fc.constantFrom('', '1', '1 ', '+1 ', '+1'), fc.boolean())
    .map(([a, b, exchange, line, s1, s2, prefix, brackets]) => ({
      digits: `${a}${b}${exchange}${line}`,
      text: `${prefix}${brackets ? `(${a}${b})${s1 === '' ? '' : ' '}` : `${a}${b}${s1}`}${exchange}${s2}${line}`,
    }));
  /** An E.164 number with a +, grouped at random. */
  const e164 = fc
    .tuple(fc.constantFrom('44', '33', '49', '61', '81'), fc.integer({ min: 1, max: 9 }), digits(8), fc.array(fc.constantFrom(' ', '-', ''), { minLength: 8, maxLength: 8 }))
    .map(([cc, first, rest, gaps]) => ({ digits: `${first}${rest}`, text: `+${cc} ${first}${[...rest].map((d, i) => `${gaps[i]}${d}`).join('')}` }));
  const word = fc.string({ unit: fc.constantFrom(...'abcdefghij _:,;'.split('')), maxLength: 12 });

  it('leaves no phone number of any common layout readable inside random text', () => {
    fc.assert(
      fc.property(fc.oneof(nanp, e164), word, word, (phone, before, after) => {
        // Act
        const { value, masked } = maskIdentifiers(`${before}${phone.text}${after}`);

        // Assess
        expect(masked).toBe(true);
        expect(value.replace(/\D/g, '')).not.toContain(phone.digits.slice(-7));
      }),
      { numRuns: 500, seed: 0x91 },
    );
  });

  it('never masks order numbers, prices or ISO timestamps', () => {
    const order = fc.integer({ min: 1, max: 99_999_999 }).map((n) => `ORD-${n}`);
    const price = fc.integer({ min: 0, max: 99_999_999 }).map((cents) => `$${(cents / 100).toFixed(2)}`);
    const iso = fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }).map((d) => d.toISOString());
    fc.assert(
      fc.property(fc.oneof(order, price, iso), (text) => {
        // Assess
        expect(maskIdentifiers(text)).toEqual({ value: text, masked: false });
      }),
      { numRuns: 1_000, seed: 0x92 },
    );
  });

  it('masks ASCII text exactly as it masks the same text once it holds a character that must be folded', () => {
    // ASCII text is searched as it is (nothing to fold); a trailing ` é` sends the same
    // text through folding, which must find the same identifiers at the same places.
    const piece = fc.oneof(
      nanp.map((phone) => phone.text),
      e164.map((phone) => phone.text),
      fc.constantFrom('jane.doe@example.com', 'a@b', '123-45-6789', '020 7946 0958', '447911123456', '7c9e6679-7425-40de-944b-e07fc1f90ae7', '2026-11-30T19:49:12.988Z', 'ORD-5551234'),
      fc.string({ unit: fc.constantFrom(...'abc019@.-+() _:'.split('')), maxLength: 16 }),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 6 }), fc.constantFrom('', ' ', ', ', '_'), (pieces, glue) => {
        // Prepare
        const text = pieces.join(glue);

        // Act
        const ascii = maskIdentifiers(text);
        const folded = maskIdentifiers(`${text} é`);

        // Assess
        expect(folded).toEqual({ value: `${ascii.value} é`, masked: ascii.masked });
      }),
      { numRuns: 1_000, seed: 0x94 },
    );
  });

  it('keeps every integer of nine digits or fewer (no phone number or SSN pattern can read one)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -999_999_999, max: 999_999_999 }), (value) => {
        // Assess: as a value, and as text searched by every detector
        expect(maskScalar('count', value)).toEqual({ value, masked: false });
        expect(maskIdentifiers(String(value)).masked).toBe(false);
      }),
      { numRuns: 2_000, seed: 0x95 },
    );
  });

  it('is idempotent on any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), (text) => {
        // Prepare
        const once = maskIdentifiers(text).value;

        // Assess
        expect(maskIdentifiers(once).value).toBe(once);
      }),
      { numRuns: 1_000, seed: 0x93 },
    );
  });
});

describe('long adversarial values (the body limits allow up to 256 KB)', () => {
  // With an unbounded local part, each of these took minutes (the search was quadratic).
  it.each([
    ['100 KB of letters, then an @', `${'a'.repeat(100_000)}@`],
    ['100 KB of digits', '5'.repeat(100_000)],
    ['100 KB of hex', 'ab12'.repeat(25_000)],
    ['100 KB of full-width digits', '５'.repeat(100_000)],
  ])('%s: masked (or kept) in one pass', (_case, text) => {
    // Act
    const result = maskIdentifiers(text);

    // Assess: nothing of these is an identifier
    expect(result.masked).toBe(false);
    expect(result.value).toBe(text);
  });

  it('masks the last 64 characters before an @ of a long run, as an address may be glued to text', () => {
    // Prepare
    const text = `${'a'.repeat(10_000)}@example.com`;

    // Act
    const result = maskIdentifiers(text);

    // Assess
    expect(result.value).toBe(`${'a'.repeat(10_000 - 64)}${'*'.repeat(64 + '@example.com'.length)}`);
  });
});
