import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { freeTextErrors } from '#lib/validation';
import { findUnstorable, isStorableText } from '#lib/validation/free-text.ts';

/** The characters SQS accepts in a message body (SendMessage API reference), as a predicate on code points. */
const sqsAccepts = (cp: number): boolean =>
  cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);

/** Code units of a string read as code points, with lone surrogates kept as themselves. */
const codePoints = (text: string): number[] => [...text].map((char) => char.codePointAt(0) as number);

describe('findUnstorable', () => {
  it.each([
    ['NUL', '\u0000', 'U+0000'],
    ['a bell', '\u0007', 'U+0007'],
    ['a vertical tab', '\u000b', 'U+000B'],
    ['a form feed', '\u000c', 'U+000C'],
    ['an escape', '\u001b', 'U+001B'],
    ['DEL', '\u007f', 'U+007F'],
    ['a C1 control (NEL)', '\u0085', 'U+0085'],
    ['a C1 control (APC)', '\u009f', 'U+009F'],
    ['a lone high surrogate', '\ud83d', 'U+D83D'],
    ['a lone low surrogate', '\ude00', 'U+DE00'],
    ['U+FFFE', '\ufffe', 'U+FFFE'],
    ['U+FFFF', '\uffff', 'U+FFFF'],
  ])('finds %s and its position in characters', (_case, char, codePoint) => {
    // Act
    const found = findUnstorable(`🌷ab${char}c`);

    // Assess
    expect(found).toEqual({ codePoint, position: 4 });
  });

  it.each([
    ['tab, LF, CR', 'a\tb\nc\rd'],
    ['a surrogate pair', '😀'],
    ['the last BMP character SQS takes', '\ufffd'],
    ['private use', '\ue000'],
    ['the last code point', '\u{10ffff}'],
    ['Latin-1 letters right after the C1 block', '\u00a0é'],
  ])('accepts %s', (_case, text) => {
    // Assess
    expect(findUnstorable(text)).toBeUndefined();
  });

  it('agrees with the SQS character set on every code point it accepts (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (text) => {
        // Assess: whatever is accepted is storable in an SQS message body as itself
        if (isStorableText(text)) expect(codePoints(text).every(sqsAccepts)).toBe(true);
      }),
      { numRuns: 2_000, seed: 0x5e },
    );
  });

  it('refuses every code point SQS refuses, anywhere in the text (property)', () => {
    const refused = fc.oneof(
      fc.integer({ min: 0, max: 0x1f }).filter((cp) => !sqsAccepts(cp)),
      fc.integer({ min: 0xd800, max: 0xdfff }),
      fc.constantFrom(0xfffe, 0xffff),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), refused, fc.string({ maxLength: 20 }), (before, cp, after) => {
        // Assess
        expect(isStorableText(`${before}${String.fromCharCode(cp)}${after}`)).toBe(false);
      }),
      { numRuns: 2_000, seed: 0x5f },
    );
  });
});

describe('freeTextErrors', () => {
  it('names the key of a value that holds a refused character', () => {
    // Act
    const errors = freeTextErrors([{ path: '/attributes', value: { tier: 'gold', note: 'a\u0000b' }, keys: true }]);

    // Assess
    expect(errors).toEqual([{ path: '/attributes/note', message: expect.stringContaining('U+0000 at character 2') }]);
  });

  it('gives a key holding a refused character by its position only', () => {
    // Act
    const errors = freeTextErrors([{ path: '/attributes', value: { tier: 'gold', 'bad\u0001key': 'x' }, keys: true }]);

    // Assess
    expect(errors).toEqual([{ path: '/attributes/1', message: expect.stringContaining('2nd key') }]);
    expect(JSON.stringify(errors)).not.toContain('bad');
  });

  it.each([
    ['an email', 'jane.doe@example.com'],
    ['a dotted phone number', 'tel.555.123.4567'],
    ['an international number', 'x+44 20 7946 0958'],
    ['an SSN', 'ssn-123-45-6789'],
    ['full-width digits', 'tel５５５１２３４５６７'],
  ])('refuses a key holding %s, by position, never repeating it', (_case, key) => {
    // Act
    const errors = freeTextErrors([{ path: '/attributes', value: { a: 1, b: 2, c: 3, [key]: 'v' }, keys: true }]);

    // Assess
    expect(errors).toEqual([{ path: '/attributes/3', message: expect.stringContaining('4th key') }]);
    expect(JSON.stringify(errors)).not.toContain(key);
  });

  it('refuses keys equal but for case within a map and across a group, and allows the exact same key across a group', () => {
    // Act
    const errors = freeTextErrors([
      { path: '/attributes', value: { Email: 'a', email: 'b', marketing: 'no' }, keys: true, group: 'g' },
      { path: '/consent', value: { MARKETING: true, marketing: false }, keys: true, group: 'g' },
    ]);

    // Assess
    expect(errors).toEqual([
      { path: '/attributes/email', message: expect.stringContaining('/attributes/Email') },
      { path: '/consent/MARKETING', message: expect.stringContaining('/attributes/marketing') },
    ]);
  });

  it('checks single values and maps with fixed keys without judging their keys', () => {
    // Act
    const errors = freeTextErrors([
      { path: '/channelContext', value: { originPage: 'https://x.example/\u0085' } },
      { path: '/identityAttributes/deviceFingerprint', value: 'fp\uffff' },
      { path: '/absent', value: undefined },
    ]);

    // Assess
    expect(errors.map((e) => e.path)).toEqual(['/channelContext/originPage', '/identityAttributes/deviceFingerprint']);
  });

  it('returns nothing for clean text', () => {
    // Assess
    expect(freeTextErrors([{ path: '/attributes', value: { tier: 'gold', note: 'Grüße 🌷\n', n: 3, ok: true }, keys: true }])).toEqual([]);
  });
});
