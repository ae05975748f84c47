/**
 * The prefill request body (docs/api.md section 2): flat attribute and consent maps with
 * safe keys. Checked with the precompiled validator of `body-schema.ts`; the rules a
 * schema cannot express (the merged key count, an empty request) are checked after it.
 */
import { ValidationError } from '#lib/errors';
import { freeTextErrors, schemaCheck } from '#lib/validation';
import { MAX_PREFILL_KEYS } from './body-schema.ts';
import { validatePrefillSchema } from './schema.validators.js';

export { MAX_PREFILL_KEYS, PREFILL_KEY_PATTERN } from './body-schema.ts';

/** A prefill attribute value: Genesys session attributes are flat scalars. */
export type PrefillScalar = string | number | boolean;

/** The validated request body. */
export interface PrefillBody {
  attributes: Record<string, PrefillScalar>;
  consent?: Record<string, string | boolean>;
}

const checkBody = schemaCheck<PrefillBody>(validatePrefillSchema);

/** ajv says "must be string,number,boolean"; say what is wrong with a nested value instead. */
const clearer = (message: string): string =>
  message.startsWith('must be string')
    ? `${message.replace('must be ', 'must be one of ').replace(/,/g, ', ')} (nested objects, arrays and null are not allowed)`
    : message;

/**
 * The body as a typed request, or a 400 naming every failing key: the schema, then the
 * shared free-text check (characters no hop stores, keys holding identifiers, given by
 * position; keys equal but for case, across attributes and consent).
 */
export function validatePrefillBody(body: unknown): PrefillBody {
  const checked = checkBody(body);
  if (!checked.ok) {
    throw new ValidationError(
      'The prefill request body is invalid.',
      checked.errors.map((error) => ({ ...error, message: clearer(error.message) })),
    );
  }
  const { attributes, consent } = checked.value;
  const merged = new Set([...Object.keys(attributes), ...Object.keys(consent ?? {})]);
  if (merged.size === 0) {
    throw new ValidationError('Nothing to prefill.', [{ path: '/attributes', message: 'must hold at least one key (or consent must)' }]);
  }
  if (merged.size > MAX_PREFILL_KEYS) {
    throw new ValidationError('Too many keys.', [
      { path: '/consent', message: `attributes and consent together hold ${merged.size} keys; at most ${MAX_PREFILL_KEYS} are allowed` },
    ]);
  }
  const textErrors = freeTextErrors([
    { path: '/attributes', value: attributes, keys: true, group: 'merged' },
    { path: '/consent', value: consent, keys: true, group: 'merged' },
  ]);
  if (textErrors.length > 0) throw new ValidationError('The prefill request body is invalid.', textErrors);
  return checked.value;
}
