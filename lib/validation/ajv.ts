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
import { isSafeKeyName, ordinal } from './free-text.ts';

/** A precompiled (standalone) ajv validator, as `npm run build:schemas` generates them. */
export interface StandaloneValidator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

/** A JSON pointer segment, with `~` and `/` escaped (RFC 6901). */
const escapeSegment = (name: string): string => name.replace(/~/g, '~0').replace(/\//g, '~1');

/** The object at a JSON pointer of `data`, if there is one. */
function objectAt(data: unknown, instancePath: string): Record<string, unknown> | undefined {
  let node = data;
  for (const part of instancePath.split('/').slice(1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node !== null && typeof node === 'object' && !Array.isArray(node) ? (node as Record<string, unknown>) : undefined;
}

/**
 * The path segment and message prefix of a property the caller named. A name that holds an
 * identifier or a character no hop stores is never repeated: it is given by its position
 * among the object's keys (`/attributes/3`, "the 4th key"), or masked when the body is unknown.
 */
function propertySegment(name: string, base: string, data: unknown): { segment: string; prefix: string } {
  if (isSafeKeyName(name)) return { segment: escapeSegment(name), prefix: '' };
  const index = data === undefined ? -1 : Object.keys(objectAt(data, base) ?? {}).indexOf(name);
  if (index >= 0) return { segment: String(index), prefix: `the ${ordinal(index + 1)} key (not repeated here) ` };
  return { segment: escapeSegment(maskIdentifiers(name).value.replace(/[^\x20-\x7e]/g, '?')), prefix: '' };
}

/** `instancePath` with every property name that must not be repeated replaced by its position. */
function safePointer(instancePath: string, data: unknown): string {
  const parts = instancePath.split('/').slice(1);
  let parent = '';
  let out = '';
  for (const part of parts) {
    const name = part.replace(/~1/g, '/').replace(/~0/g, '~');
    out += `/${propertySegment(name, parent, data).segment}`;
    parent += `/${part}`;
  }
  return out;
}

/**
 * ajv errors as problem `errors[]`: the failing path (the missing or unexpected property
 * included) and a message that never repeats the submitted value. Duplicates are dropped.
 * With the checked `data`, a property name holding an identifier is given by its position.
 */
export function fieldErrorsFromAjv(errors: readonly ErrorObject[] | null | undefined, data?: unknown): FieldError[] {
  const result: FieldError[] = [];
  const seen = new Set<string>();
  const push = (path: string, message: string): void => {
    const key = `${path}\n${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    result.push({ path: path === '' ? '/' : path, message });
  };
  for (const error of errors ?? []) {
    const base = safePointer(error.instancePath, data);
    const raw = error.instancePath;
    const params = error.params as Record<string, unknown>;
    switch (error.keyword) {
      case 'additionalProperties': {
        const named = propertySegment(String(params['additionalProperty']), raw, data);
        push(`${base}/${named.segment}`, `${named.prefix}is not an allowed property`);
        break;
      }
      case 'required':
        push(`${base}/${escapeSegment(String(params['missingProperty']))}`, 'is required');
        break;
      case 'propertyNames':
        // ajv reports the name's own failure (pattern) separately; this one adds nothing.
        break;
      default: {
        const propertyName = (error as ErrorObject & { propertyName?: string }).propertyName;
        if (propertyName !== undefined) {
          const named = propertySegment(propertyName, raw, data);
          push(`${base}/${named.segment}`, `${named.prefix}name ${error.message ?? 'is invalid'}`);
        } else push(base, error.message ?? 'is invalid');
      }
    }
  }
  return result;
}

/** What a schema check answers: the typed body, or the failing paths. */
export type SchemaCheck<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

/** Wraps a precompiled validator in a checker shaped like the HTTP stack's `validateBody`. */
export function schemaCheck<T>(validate: StandaloneValidator): (body: unknown) => SchemaCheck<T> {
  return (body) => (validate(body) ? { ok: true, value: body as T } : { ok: false, errors: fieldErrorsFromAjv(validate.errors, body) });
}
