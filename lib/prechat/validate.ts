/**
 * Checks of the pre-chat body: the precompiled schema validator (no ajv compile at cold
 * start), then the rules a schema says poorly (UUIDs named like path parameters; email or
 * phone, at least one; the shared free-text check of the survey answers).
 */
import type { FieldError } from '#lib/errors';
import { UUID_PATTERN, freeTextErrors, schemaCheck, type SchemaCheck } from '#lib/validation';
import type { PrechatBody, SurveyAnswers } from './schema.ts';
import { validatePrechat } from './schema.validators.js';

const check = schemaCheck<PrechatBody>(validatePrechat);

/**
 * The body with every survey answer that is exactly `""` left out. A Data Action renders
 * an Architect input that was not set as an empty string (`$!` silent notation in its
 * request template), so an empty answer means "not answered", never "invalid".
 */
function withoutEmptyAnswers(body: unknown): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return body;
  const answers = (body as Record<string, unknown>)['surveyAnswers'];
  if (answers === null || typeof answers !== 'object' || Array.isArray(answers)) return body;
  const kept = Object.fromEntries(Object.entries(answers).filter(([, value]) => value !== ''));
  return { ...body, surveyAnswers: kept };
}

/**
 * Validates the body: ids must be UUIDs (answered lower-cased), a survey with neither
 * email nor phone is refused naming `surveyAnswers`, and so is an answer holding a
 * character some hop cannot store. Empty answers count as not given.
 */
export function validatePrechatBody(body: unknown): SchemaCheck<PrechatBody> {
  const checked = check(withoutEmptyAnswers(body));
  if (!checked.ok) return checked;
  const { conversationId, participantId, surveyAnswers } = checked.value;
  const errors: FieldError[] = [];
  for (const [name, value] of [['conversationId', conversationId], ['participantId', participantId]] as const) {
    if (!UUID_PATTERN.test(value)) errors.push({ path: `/${name}`, message: 'must be a UUID' });
  }
  if (surveyAnswers.email === undefined && surveyAnswers.phone === undefined) {
    errors.push({ path: '/surveyAnswers', message: 'must include email or phone' });
  }
  if (errors.length > 0) return { ok: false, errors };
  const unstorable = freeTextErrors([{ path: '/surveyAnswers', value: surveyAnswers }]);
  if (unstorable.length > 0) return { ok: false, errors: unstorable };
  const answers: SurveyAnswers = surveyAnswers;
  return {
    ok: true,
    value: { conversationId: conversationId.toLowerCase(), participantId: participantId.toLowerCase(), surveyAnswers: answers },
  };
}
