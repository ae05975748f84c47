import { describe, expect, it } from 'vitest';
import { ValidationError } from '#lib/errors';
import { validatePrefillBody } from '#lib/prefill';

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

  it('masks a key that looks like an identifier when it names it in an error', () => {
    // Act
    const errors = errorsOf({ attributes: { 'jane.doe@enterprise.com': 'x' } });

    // Assess
    expect(JSON.stringify(errors)).not.toContain('jane.doe@enterprise.com');
    expect(errors[0]?.path).toBe(`/attributes/${'*'.repeat('jane.doe@enterprise.com'.length)}`);
  });

  it('names every failing key, not only the first', () => {
    // Act
    const errors = errorsOf({ attributes: { a: {}, b: [], c: null, ok: 'fine' } });

    // Assess
    expect(errors.map((e) => e.path).sort()).toEqual(['/attributes/a', '/attributes/b', '/attributes/c']);
  });
});
