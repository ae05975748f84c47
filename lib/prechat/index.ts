/** Pre-chat enrichment (contract section 2, `POST /prechat/enrich`): schema, merge, routing, contact attributes, sync job. */
export { contactAttributes, routingAttributes, toFlatAttributes } from './attributes.ts';
export { WEB_MESSAGING_CHANNEL, enrichPrechat } from './enrich.ts';
export type { PrechatDependencies, PrechatResult } from './enrich.ts';
export { PROFILE_DEFAULTS, mergeProfile, queueForTier } from './merge.ts';
export type { EnrichedProfile } from './merge.ts';
export { prechatSchema } from './schema.ts';
export type { PrechatBody, SurveyAnswers } from './schema.ts';
export { prechatSyncJob, sessionReference } from './sync.ts';
export type { PrechatJobInput } from './sync.ts';
export { validatePrechatBody } from './validate.ts';
