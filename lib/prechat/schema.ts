/**
 * Body of `POST /prechat/enrich` (docs/api.md section 2): the conversation and guest
 * participant the Architect inbound message flow is routing, and the pre-chat survey
 * answers, as a JSON schema (`npm run build:schemas` precompiles it into
 * `schema.validators.js`). Unknown properties are refused (400), as on the guest routes:
 * the Data Action's request template (docs/genesys/prechat-data-action.json) sends exactly
 * these fields, so anything else is a misconfigured caller worth hearing about.
 */
import type { SchemaObject } from 'ajv';
import { PHONE_INPUT_PATTERN } from '#lib/validation';

/** What the guest answered in the pre-chat survey. */
export interface SurveyAnswers {
  email?: string;
  phone?: string;
  subject?: string;
  priority?: string;
}

/** Body of `POST /prechat/enrich`. */
export interface PrechatBody {
  /** The Genesys conversation (a UUID, lower-cased once validated). */
  conversationId: string;
  /** The guest's (customer) participant on it (a UUID, lower-cased once validated). */
  participantId: string;
  surveyAnswers: SurveyAnswers;
}

/** A Genesys id before the UUID check of `validatePrechatBody` (which names the field). */
const genesysId = { type: 'string', minLength: 1, maxLength: 36 } as const;

/** JSON schema of `POST /prechat/enrich`. */
export const prechatSchema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['conversationId', 'participantId', 'surveyAnswers'],
  properties: {
    conversationId: genesysId,
    participantId: genesysId,
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
  },
};
