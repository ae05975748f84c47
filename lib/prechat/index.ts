/** Pre-chat enrichment (docs/api.md section 2, `POST /prechat/enrich`): schema, merge, routing, participant attributes, sync job. */
export { PRECHAT_ATTRIBUTE_PREFIX, participantAttributes, toFlatAttributes } from './attributes.ts';
export type { RoutingChoice } from './attributes.ts';
export { PRECHAT_BUDGET_MS, enrichPrechat, prechatDeadline } from './enrich.ts';
export { PrechatSyncNotQueuedError } from './errors.ts';
export type { PrechatDependencies, PrechatResult } from './enrich.ts';
export { PROFILE_DEFAULTS, mergeProfile, queueForTier } from './merge.ts';
export type { EnrichedProfile } from './merge.ts';
export { prechatSchema } from './schema.ts';
export type { PrechatBody, SurveyAnswers } from './schema.ts';
export { prechatSyncJob } from './sync.ts';
export type { PrechatJobInput } from './sync.ts';
export { validatePrechatBody } from './validate.ts';
