/**
 * Body of `POST /prechat/enrich` (contract section 2): the pre-chat survey answers and
 * the Web Messaging session token, as a JSON schema (`npm run build:schemas`
 * precompiles it into `schema.validators.js`).
 */
import type { SchemaObject } from 'ajv';
import { PHONE_INPUT_PATTERN } from '#lib/validation';

/** What the guest answered in the pre-chat form. */
export interface SurveyAnswers {
  email?: string;
  phone?: string;
  subject?: string;
  priority?: string;
}

/** Body of `POST /prechat/enrich`. */
export interface PrechatBody {
  surveyAnswers: SurveyAnswers;
  sessionToken: string;
}

/** JSON schema of `POST /prechat/enrich`. */
export const prechatSchema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['surveyAnswers', 'sessionToken'],
  properties: {
    surveyAnswers: {
      type: 'object',
      additionalProperties: false,
      properties: {
        email: { type: 'string', format: 'email', maxLength: 254 },
        phone: { type: 'string', pattern: PHONE_INPUT_PATTERN, maxLength: 32 },
        subject: { type: 'string', maxLength: 200 },
        priority: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,32}$' },
      },
    },
    sessionToken: { type: 'string', minLength: 1, maxLength: 4096, pattern: '^[\\x21-\\x7E]*$' },
  },
};
