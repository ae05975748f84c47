/**
 * Small request checks shared by handlers (path parameters and the like). Body schemas
 * are ajv schemas, precompiled to standalone validators (`npm run build:schemas`) and
 * passed to the HTTP stack's `validateBody` through `schemaCheck`. Run-time compilation
 * (ajv's compiler) is imported from `#lib/validation/compile` by the few modules that need it.
 */
import { ValidationError } from '#lib/errors';

/** A canonical UUID (any version), as Genesys uses for session, guest and conversation ids. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A phone number as callers type it (JSON schema pattern): 7 to 15 digits, optionally a
 * leading `+`, with spaces, dots, dashes and brackets between.
 */
export const PHONE_INPUT_PATTERN = '^(?=(?:\\D*\\d){7,15}\\D*$)\\+?[0-9 ().-]+$';

/** Returns the named path parameter, or throws a 400 naming it when it is not a UUID. */
export function requireUuidParam(params: Record<string, string | undefined>, name: string): string {
  const value = params[name];
  if (value === undefined || !UUID_PATTERN.test(value)) {
    throw new ValidationError(`The path parameter ${name} must be a UUID.`, [
      { path: `/pathParameters/${name}`, message: 'must be a UUID' },
    ]);
  }
  return value.toLowerCase();
}

/**
 * An `If-Match` value as RFC 9110 (8.8.3, 13.1.1) writes it: `*`, or entity tags
 * (`"..."` or `W/"..."`, separated by commas). Anything else, a character above U+00FF
 * that no HTTP client could forward included, is a 400 naming the header, at the edge.
 */
export function requireIfMatch(value: string): string {
  const tag = String.raw`(?:W\/)?"[!#-~-ÿ]*"`;
  if (!new RegExp(String.raw`^(?:\*|${tag}(?:[ 	]*,[ 	]*${tag})*)$`).test(value)) {
    throw new ValidationError('The If-Match header must be * or a list of entity tags ("..." or W/"...").', [
      { path: '/headers/if-match', message: 'must be * or entity tags' },
    ]);
  }
  return value;
}

export { schemaCheck } from './ajv.ts';
export { freeTextErrors } from './free-text.ts';
export type { SchemaCheck } from './ajv.ts';
