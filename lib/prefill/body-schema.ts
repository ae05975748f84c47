/**
 * The prefill request body's JSON schema (docs/api.md section 2), precompiled by
 * `npm run build:schemas` into `schema.validators.js`. The rules a schema cannot say (the
 * merged key count, an empty request, free text) are checked in `schema.ts`.
 */

/** Attribute and consent keys: a letter, then letters, digits, `_`, `.` or `-` (64 at most). */
export const PREFILL_KEY_PATTERN = '^[A-Za-z][A-Za-z0-9_.-]{0,63}$';

/** At most this many keys, in each map and after consent is merged over the attributes. */
export const MAX_PREFILL_KEYS = 100;

const flatMap = (valueTypes: string[]) => ({
  type: 'object',
  maxProperties: MAX_PREFILL_KEYS,
  propertyNames: { pattern: PREFILL_KEY_PATTERN },
  additionalProperties: { type: valueTypes },
});

/** The body: `attributes` (required) and `consent`, flat maps with safe keys. */
export const prefillBodySchema = {
  type: 'object',
  required: ['attributes'],
  additionalProperties: false,
  properties: {
    attributes: flatMap(['string', 'number', 'boolean']),
    consent: flatMap(['string', 'boolean']),
  },
};
