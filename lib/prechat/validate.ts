/**
 * Checks of the pre-chat body: the precompiled schema validator (no ajv compile at cold
 * start), then the rule a schema says poorly (email or phone, at least one).
 */
import { schemaCheck, type SchemaCheck } from '#lib/validation';
import type { PrechatBody } from './schema.ts';
import { validatePrechat } from './schema.validators.js';

const check = schemaCheck<PrechatBody>(validatePrechat);

/** Validates the body; a survey with neither email nor phone is refused, naming `surveyAnswers`. */
export function validatePrechatBody(body: unknown): SchemaCheck<PrechatBody> {
  const checked = check(body);
  if (!checked.ok) return checked;
  const { email, phone } = checked.value.surveyAnswers;
  if (email === undefined && phone === undefined) {
    return { ok: false, errors: [{ path: '/surveyAnswers', message: 'must include email or phone' }] };
  }
  return checked;
}
