import { describe, expect, it } from 'vitest';
import { ValidationError } from '#lib/errors';
import { validatePrefillBody } from '#lib/prefill/schema.ts';

/** The 400's `errors[]`, or a failure when the body was accepted. */
function errorsOf(body: unknown): Array<{ path: string; message: string }> {
  try {
    validatePrefillBody(body);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).errors;
  }
  throw new Error('the body was accepted');
}

const keys = (count: number, prefix = 'k'): Record<string, string> =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix}${i}`, 'v']));

describe('validatePrefillBody', () => {
  describe.each([
    ['strings, numbers and booleans', { attributes: { first_name: 'Jane', visits: 3, vip: true } }],
    ['consent with strings and booleans', { attributes: { tier: 'gold' }, consent: { marketing: 'true', gdpr: false } }],
    ['only consent', { attributes: {}, consent: { marketing: true } }],
    ['keys with dots, dashes and underscores', { attributes: { 'a.b-c_d9': 'x' } }],
    ['a 64-character key', { attributes: { [`k${'x'.repeat(63)}`]: 'x' } }],
    ['100 keys', { attributes: keys(100) }],
    ['100 keys once consent is merged over the same names', { attributes: keys(100), consent: { k0: true } }],
    ['empty strings', { attributes: { note: '' } }],
  ])('accepts %s', (_case, body) => {
    it('returns the body as is', () => {
      // Act
      const result = validatePrefillBody(body);

      // Assess
      expect(result).toEqual(body);
    });
  });

  describe.each([
    ['a nested object', { attributes: { address: { city: 'Paris' } } }, '/attributes/address', /nested objects, arrays and null/],
    ['an array', { attributes: { tags: ['a', 'b'] } }, '/attributes/tags', /nested objects, arrays and null/],
    ['null', { attributes: { middle_name: null } }, '/attributes/middle_name', /nested objects, arrays and null/],
    ['a number in consent', { attributes: {}, consent: { marketing: 1 } }, '/consent/marketing', /string, boolean/],
    ['a key starting with a digit', { attributes: { '1st': 'x' } }, '/attributes/1st', /name must match/],
    ['a key with a space', { attributes: { 'first name': 'x' } }, '/attributes/first name', /name must match/],
    ['a key starting with an underscore', { attributes: { __proto__x: 'x' } }, '/attributes/__proto__x', /name must match/],
    ['a 65-character key', { attributes: { [`k${'x'.repeat(64)}`]: 'x' } }, `/attributes/k${'x'.repeat(64)}`, /name must match/],
    ['101 attribute keys', { attributes: keys(101) }, '/attributes', /more than 100/],
    ['101 keys after merging consent', { attributes: keys(60), consent: keys(41, 'c') }, '/consent', /101 keys; at most 100/],
    ['no attributes member', { consent: { marketing: true } }, '/attributes', /is required/],
    ['an unknown top-level member', { attributes: { a: 'b' }, extra: 1 }, '/extra', /not an allowed property/],
    ['nothing to prefill', { attributes: {} }, '/attributes', /at least one key/],
    ['attributes as an array', { attributes: [] }, '/attributes', /must be object/],
    ['a body that is not an object', ['attributes'], '/', /must be object/],
  ])('refuses %s', (_case, body, path, message) => {
    it(`with a 400 naming ${path}`, () => {
      // Act
      const errors = errorsOf(body);

      // Assess
      expect(errors).toContainEqual({ path, message: expect.stringMatching(message) });
    });
  });

  it('gives a key that holds an identifier by its position, never by its name', () => {
    // Act
    const errors = errorsOf({ attributes: { tier: 'gold', 'jane.doe@enterprise.com': 'x' } });

    // Assess
    expect(JSON.stringify(errors)).not.toContain('jane.doe');
    expect(errors[0]?.path).toBe('/attributes/1');
    expect(errors[0]?.message).toContain('2nd key');
  });

  describe.each([
    ['a phone number with dots', 'tel.555.123.4567'],
    ['a bare phone number', 'mobile_5551234567'],
    ['a grouped international number', 'x-0044-20-7946-0958'],
    ['an SSN with dots', 'ssn.123.45.6789'],
    ['a dashed SSN', 'id-123-45-6789'],
  ])('refuses a key that holds %s (the key itself passes the key pattern)', (_case, key) => {
    it.each([
      ['attributes', (k: string) => ({ attributes: { tier: 'gold', note: 'x', [k]: 'v' } }), '/attributes/2', '3rd key'],
      ['consent', (k: string) => ({ attributes: { tier: 'gold' }, consent: { [k]: true } }), '/consent/0', '1st key'],
    ])('in %s, by position', (_where, body, path, nth) => {
      // Act
      const errors = errorsOf(body(key));

      // Assess
      expect(errors).toEqual([{ path, message: expect.stringContaining(nth) }]);
      expect(JSON.stringify(errors)).not.toContain(key);
      expect(JSON.stringify(errors)).not.toMatch(/555|123|7946/);
    });
  });

  describe.each([
    ['NUL', '\u0000', 'U+0000'],
    ['a C0 control (bell)', '\u0007', 'U+0007'],
    ['a vertical tab', '\u000b', 'U+000B'],
    ['DEL', '\u007f', 'U+007F'],
    ['a C1 control', '\u0085', 'U+0085'],
    ['a lone high surrogate', '\ud800', 'U+D800'],
    ['a lone low surrogate', '\udc00', 'U+DC00'],
    ['U+FFFE', '\ufffe', 'U+FFFE'],
    ['U+FFFF', '\uffff', 'U+FFFF'],
  ])('refuses a value holding %s, naming its key and the character', (_case, escaped, codePoint) => {
    it.each([
      ['attributes', (v: string) => ({ attributes: { tier: 'gold', note: v } }), '/attributes/note'],
      ['consent', (v: string) => ({ attributes: { tier: 'gold' }, consent: { marketing: v } }), '/consent/marketing'],
    ])('in %s', (_where, body, path) => {
      // Prepare
      const value = `ok ${escaped} text`;

      // Act
      const errors = errorsOf(body(value));

      // Assess
      expect(errors).toEqual([{ path, message: expect.stringContaining(`${codePoint} at character 4`) }]);
    });
  });

  it.each([
    ['tab, LF and CR', 'a\tb\nc\rd'],
    ['a surrogate pair (emoji)', 'tulip 🌷'],
    ['C1-looking text that is printable (é, €, ÿ)', 'café € ÿ'],
    ['the last character before the noncharacters', '\ufffd'],
  ])('accepts %s', (_case, text) => {
    // Prepare
    const value = text;

    // Act
    const body = validatePrefillBody({ attributes: { note: value } });

    // Assess
    expect(body.attributes['note']).toBe(value);
  });

  describe.each([
    ['Email and email', { attributes: { Email: 'a', email: 'b' } }, '/attributes/email', '/attributes/Email'],
    ['PHONE in attributes and phone in consent', { attributes: { PHONE: '1' }, consent: { phone: '2' } }, '/consent/phone', '/attributes/PHONE'],
    ['Tier and tier', { attributes: { Tier: 'gold', tier: 'silver' } }, '/attributes/tier', '/attributes/Tier'],
  ])('refuses two keys equal but for case (%s) instead of dropping one value', (_case, body, path, other) => {
    it('naming both keys', () => {
      // Act
      const errors = errorsOf(body);

      // Assess
      expect(errors).toEqual([{ path, message: expect.stringContaining(other) }]);
    });
  });

  it('still lets consent override the same key in attributes (the documented merge)', () => {
    // Act
    const body = validatePrefillBody({ attributes: { marketing: 'no' }, consent: { marketing: true } });

    // Assess
    expect(body.consent).toEqual({ marketing: true });
  });

  it('names every failing key, not only the first', () => {
    // Act
    const errors = errorsOf({ attributes: { a: {}, b: [], c: null, ok: 'fine' } });

    // Assess
    expect(errors.map((e) => e.path).sort()).toEqual(['/attributes/a', '/attributes/b', '/attributes/c']);
  });
});
