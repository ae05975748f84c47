/**
 * Checks of the pre-chat body: the precompiled schema validator (no ajv compile at cold
 * start), then the rules a schema says poorly (email or phone, at least one; the shared
 * free-text check of the survey answers).
 */
import { freeTextErrors, schemaCheck, type SchemaCheck } from '#lib/validation';
import type { PrechatBody } from './schema.ts';
import { validatePrechat } from './schema.validators.js';

const check = schemaCheck<PrechatBody>(validatePrechat);

/**
 * Validates the body; a survey with neither email nor phone is refused, naming
 * `surveyAnswers`, and so is an answer holding a character some hop cannot store.
 */
export function validatePrechatBody(body: unknown): SchemaCheck<PrechatBody> {
  const checked = check(body);
  if (!checked.ok) return checked;
  const { email, phone } = checked.value.surveyAnswers;
  if (email === undefined && phone === undefined) {
    return { ok: false, errors: [{ path: '/surveyAnswers', message: 'must include email or phone' }] };
  }
  const errors = freeTextErrors([{ path: '/surveyAnswers', value: checked.value.surveyAnswers }]);
  return errors.length === 0 ? checked : { ok: false, errors };
}
