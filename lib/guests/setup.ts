/**
 * The organisation set-up guests need (docs/api.md section 4, "guest set-up"), defined once:
 * the external source the identity hashes live under and the contact schema that holds
 * consent, channel context, device fingerprint and attributes. `npm run setup-genesys`
 * finds them by name or creates them; the local stack seeds its sandbox Genesys with the
 * same request bodies.
 *
 * Genesys contact schemas (model `DataSchema`, JSON Schema draft-04) type each custom field
 * by the suffix of its name (`_text`, `_longtext`, `_url`, `_identifier`, `_checkbox`,
 * `_integer`, `_number`, `_date`, `_datetime`, `_enum`, `_tag`) and an `allOf` reference to
 * the matching core definition (`#/definitions/<type>`); text fields hold at most 100
 * characters, identifiers 100, urls 200, long texts 1000. A new schema is posted with
 * `version: 0`; Genesys answers version 1.
 */
import { genesysOperations, type DataSchema, type Deadline, type ExternalSource, type GenesysClient } from '#lib/genesys';
import { ATTRIBUTE_CHUNKS, FIELD_LIMITS, GUEST_FIELDS, attributeChunkField } from './contact.ts';

/** The external source's name (how set-up finds it again). */
export const GUEST_EXTERNAL_SOURCE_NAME = 'genesys-guest-sync guests';

/** The contact schema's name (how set-up finds it again). */
export const GUEST_CONTACT_SCHEMA_NAME = 'genesys-guest-sync guest';

/** Request body of `postExternalcontactsExternalsources` for the guest source. */
export const GUEST_EXTERNAL_SOURCE_BODY: ExternalSource = { name: GUEST_EXTERNAL_SOURCE_NAME, active: true };

const field = (type: string, title: string, description: string, limits: Record<string, number> = {}): Record<string, unknown> => ({
  allOf: [{ $ref: `#/definitions/${type}` }],
  title,
  description,
  ...limits,
});

const attributeChunks = Object.fromEntries(
  Array.from({ length: ATTRIBUTE_CHUNKS }, (_, i) => [
    attributeChunkField(i + 1),
    field('longtext', `Attributes ${i + 1}`, `Piece ${i + 1} of the guest's attributes as JSON (written by genesys-guest-sync)`, {
      minLength: 0,
      maxLength: FIELD_LIMITS.longtext,
    }),
  ]),
);

/** Request body of `postExternalcontactsContactsSchemas` for the guest schema. */
export const GUEST_CONTACT_SCHEMA_BODY: DataSchema = {
  name: GUEST_CONTACT_SCHEMA_NAME,
  version: 0,
  enabled: true,
  jsonSchema: {
    $schema: 'http://json-schema.org/draft-04/schema#',
    title: GUEST_CONTACT_SCHEMA_NAME,
    description: 'A web messaging guest kept by genesys-guest-sync: consent, channel context and attributes; identity only as hashed external ids.',
    properties: {
      [GUEST_FIELDS.marketingConsent]: field('checkbox', 'Marketing consent', 'The guest agreed to marketing'),
      [GUEST_FIELDS.dataProcessingConsent]: field('checkbox', 'Data processing consent', 'The guest agreed to data processing'),
      [GUEST_FIELDS.originPage]: field('url', 'Origin page', 'Page the conversation started on, without query string and fragment', {
        minLength: 0,
        maxLength: FIELD_LIMITS.url,
      }),
      [GUEST_FIELDS.campaignId]: field('identifier', 'Campaign', 'Campaign id of the visit', { minLength: 0, maxLength: FIELD_LIMITS.identifier }),
      [GUEST_FIELDS.deviceFingerprint]: field('longtext', 'Device fingerprint', 'Opaque device fingerprint', {
        minLength: 0,
        maxLength: FIELD_LIMITS.longtext,
      }),
      ...attributeChunks,
    },
  },
};

/**
 * The guest set-up as a sandbox Genesys seed (`startGenesysSandboxV2({ seed })`): the same
 * request bodies under the ids the stack configures, as if `npm run setup-genesys` had run.
 */
export function guestSetupSeed(ids: { externalSourceId: string; contactSchemaId: string }): {
  externalSources: Array<{ id: string; body: Record<string, unknown> }>;
  contactSchemas: Array<{ id: string; body: Record<string, unknown> }>;
} {
  return {
    externalSources: [{ id: ids.externalSourceId, body: structuredClone(GUEST_EXTERNAL_SOURCE_BODY) as unknown as Record<string, unknown> }],
    contactSchemas: [{ id: ids.contactSchemaId, body: structuredClone(GUEST_CONTACT_SCHEMA_BODY) as unknown as Record<string, unknown> }],
  };
}

/** What set-up found or made. */
export interface GuestSetup {
  externalSourceId: string;
  contactSchemaId: string;
  /** Which of the two this run created (empty on a re-run). */
  created: Array<'externalSource' | 'contactSchema'>;
}

/** Listing pages read before giving up. */
const MAX_PAGES = 50;

/** The external source named `name`, following the listing's cursor. */
async function findExternalSource(client: Pick<GenesysClient, 'call'>, name: string, deadline?: Deadline): Promise<ExternalSource | undefined> {
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const { body } = await client.call(genesysOperations.listExternalSources, {
      ...(deadline ? { deadline } : {}),
      query: { name, ...(cursor ? { cursor } : {}) },
    });
    const found = (body.entities ?? []).find((source) => source.name.toLowerCase() === name.toLowerCase());
    if (found) return found;
    const next = (body as { cursors?: { after?: string } }).cursors?.after;
    if (!next || next === cursor) return undefined;
    cursor = next;
  }
  return undefined;
}

/**
 * Finds the guest external source and contact schema by name, creating whichever is
 * missing; safe to run again (a second run creates nothing and prints the same ids).
 */
export async function ensureGuestSetup(client: Pick<GenesysClient, 'call'>, options: { deadline?: Deadline } = {}): Promise<GuestSetup> {
  const call = options.deadline ? { deadline: options.deadline } : {};
  const created: GuestSetup['created'] = [];

  let source = await findExternalSource(client, GUEST_EXTERNAL_SOURCE_NAME, options.deadline);
  if (!source) {
    source = (await client.call(genesysOperations.createExternalSource, { ...call, body: GUEST_EXTERNAL_SOURCE_BODY })).body;
    created.push('externalSource');
  }

  const { body: schemas } = await client.call(genesysOperations.listContactSchemas, call);
  let schema = (schemas.entities ?? []).find((entity) => (entity.name ?? entity.jsonSchema.title ?? '').toLowerCase() === GUEST_CONTACT_SCHEMA_NAME.toLowerCase());
  if (!schema) {
    schema = (await client.call(genesysOperations.createContactSchema, { ...call, body: GUEST_CONTACT_SCHEMA_BODY })).body;
    created.push('contactSchema');
  }

  if (!source.id || !schema.id) throw new Error('Genesys answered the guest set-up without ids.');
  return { externalSourceId: source.id, contactSchemaId: schema.id, created };
}
