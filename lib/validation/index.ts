/**
 * Small request checks shared by handlers (path parameters and the like). Body schemas
 * are ajv schemas passed to the HTTP stack's `validateBody`.
 */
import { ValidationError } from '#lib/errors';

/** A canonical UUID (any version), as Genesys uses for session, guest and conversation ids. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
