/** Pre-chat enrichment (docs/api.md section 2, `POST /prechat/enrich`): schema, merge, routing, participant attributes, sync job. */
export { enrichPrechat, prechatDeadline } from './enrich.ts';
export type { PrechatDependencies } from './enrich.ts';
export type { PrechatBody } from './schema.ts';
export { validatePrechatBody } from './validate.ts';
