import { describe, expect, it } from 'vitest';
import { fieldErrorsFromAjv } from '#lib/validation/ajv.ts';
import { compileSchema } from '#lib/validation/compile';

describe('fieldErrorsFromAjv', () => {
  it.each([
    ['a missing property names it', { instancePath: '/consent', keyword: 'required', params: { missingProperty: 'marketing' }, schemaPath: '', message: "must have required property 'marketing'" }, { path: '/consent/marketing', message: 'is required' }],
    ['an extra property names it', { instancePath: '', keyword: 'additionalProperties', params: { additionalProperty: 'x' }, schemaPath: '', message: '' }, { path: '/x', message: 'is not an allowed property' }],
    ['a slash in a name is escaped', { instancePath: '', keyword: 'additionalProperties', params: { additionalProperty: 'a/b~c' }, schemaPath: '', message: '' }, { path: '/a~1b~0c', message: 'is not an allowed property' }],
    ['the root is "/"', { instancePath: '', keyword: 'type', params: { type: 'object' }, schemaPath: '', message: 'must be object' }, { path: '/', message: 'must be object' }],
  ])('%s', (_case, error, expected) => {
    expect(fieldErrorsFromAjv([error])).toEqual([expected]);
  });

  it('drops duplicates and the generic property-name error', () => {
    expect(
      fieldErrorsFromAjv([
        { instancePath: '/a', keyword: 'type', params: {}, schemaPath: '', message: 'must be string' },
        { instancePath: '/a', keyword: 'type', params: {}, schemaPath: '', message: 'must be string' },
        { instancePath: '/m', keyword: 'propertyNames', params: { propertyName: 'x' }, schemaPath: '', message: 'property name must be valid' },
      ]),
    ).toEqual([{ path: '/a', message: 'must be string' }]);
  });
});

describe('compileSchema', () => {
  it('answers the typed value or the failing paths', () => {
    // Prepare
    const check = compileSchema<{ page: string }>({ type: 'object', required: ['page'], properties: { page: { type: 'string', format: 'uri' } } });

    // Act / Assess
    expect(check({ page: 'https://example.com/' })).toEqual({ ok: true, value: { page: 'https://example.com/' } });
    expect(check({ page: 'nope' })).toEqual({ ok: false, errors: [{ path: '/page', message: 'must match format "uri"' }] });
  });

  it('compiles on first use, not when declared (importing a module costs no compile)', () => {
    // Prepare: a schema ajv's strict mode refuses, so compiling it throws.
    const check = compileSchema({ type: 'object', properties: { a: { type: 'string', minimum: 1 } } });

    // Act / Assess: declaring it threw nothing; the first check compiles and throws.
    expect(() => check({})).toThrow(/strict mode/);
  });
});
