/**
 * Request body schemas checked by ajv validators precompiled to standalone code
 * (`npm run build:schemas`): no schema is compiled at run time, so a function pays
 * neither ajv's bundle weight nor its compile time at cold start. This module turns a
 * validator's errors into the problem document's `errors[]` (one entry per failing
 * path, no input values echoed).
 */
import type { ErrorObject } from 'ajv';
import type { FieldError } from '#lib/errors';
import { maskIdentifiers } from '#lib/pii';

/** A precompiled (standalone) ajv validator, as `npm run build:schemas` generates them. */
export interface StandaloneValidator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

/** A JSON pointer segment, with `~` and `/` escaped (RFC 6901) and identifiers masked. */
const segment = (name: string): string => maskIdentifiers(name).value.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * ajv errors as problem `errors[]`: the failing path (the missing or unexpected property
 * included) and a message that never repeats the submitted value. Duplicates are dropped.
 */
export function fieldErrorsFromAjv(errors: readonly ErrorObject[] | null | undefined): FieldError[] {
  const result: FieldError[] = [];
  const seen = new Set<string>();
  const push = (path: string, message: string): void => {
    const key = `${path}\n${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    result.push({ path: path === '' ? '/' : path, message });
  };
  for (const error of errors ?? []) {
    const base = maskIdentifiers(error.instancePath).value;
    const params = error.params as Record<string, unknown>;
    switch (error.keyword) {
      case 'additionalProperties':
        push(`${base}/${segment(String(params['additionalProperty']))}`, 'is not an allowed property');
        break;
      case 'required':
        push(`${base}/${segment(String(params['missingProperty']))}`, 'is required');
        break;
      case 'propertyNames':
        // ajv reports the name's own failure (pattern) separately; this one adds nothing.
        break;
      default: {
        const propertyName = (error as ErrorObject & { propertyName?: string }).propertyName;
        if (propertyName !== undefined) push(`${base}/${segment(propertyName)}`, `name ${error.message ?? 'is invalid'}`);
        else push(base, error.message ?? 'is invalid');
      }
    }
  }
  return result;
}

/** What a schema check answers: the typed body, or the failing paths. */
export type SchemaCheck<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

/** Wraps a precompiled validator in a checker shaped like the HTTP stack's `validateBody`. */
export function schemaCheck<T>(validate: StandaloneValidator): (body: unknown) => SchemaCheck<T> {
  return (body) => (validate(body) ? { ok: true, value: body as T } : { ok: false, errors: fieldErrorsFromAjv(validate.errors) });
}
