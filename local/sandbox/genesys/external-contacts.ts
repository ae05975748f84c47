/**
 * External contacts (SDK `ExternalContactsApi`): contacts (model `ExternalContact`), the
 * identifier lookup (model `ContactIdentifier`), external sources (models `ExternalSource`,
 * `CursorExternalSourceListing`) and contact schemas (models `DataSchema`,
 * `DataSchemaListing`). A PUT replaces the whole contact and moves `modifyDate`.
 */
import { randomUUID } from 'node:crypto';
import type { RouteDef } from '../server.ts';
import { isPlainObject } from '../util.ts';
import {
  GenesysHttpError,
  SANDBOX_ORG_ID,
  genesysRoute,
  invalid,
  notFound,
  requireObject,
  requireString,
  type GenesysContext,
} from './context.ts';

/** Identifier types the lookup takes (SDK model `ContactIdentifier.type`). */
export const CONTACT_IDENTIFIER_TYPES = [
  'SocialLine',
  'SocialFacebook',
  'SocialTwitter',
  'SocialWhatsapp',
  'SocialInstagram',
  'AppleOpaqueId',
  'Email',
  'Phone',
  'Cookie',
  'ExternalId',
] as const;

/** Fields Genesys sets on a contact; a create or PUT cannot choose them. */
const READ_ONLY = new Set(['id', 'createDate', 'modifyDate', 'selfUri', 'type', 'canonicalContact', 'mergeSet', 'mergedFrom', 'mergedTo', 'mergeOperation', 'identifiers']);
const PHONE_FIELDS = ['workPhone', 'cellPhone', 'homePhone', 'otherPhone'] as const;
const EMAIL_FIELDS = ['workEmail', 'personalEmail', 'otherEmail'] as const;

/** The contact routes, the identifier lookup, external sources and schemas. */
export function externalContactRoutes(ctx: GenesysContext): RouteDef[] {
  const findContact = (id: string | undefined): Record<string, unknown> => {
    const contact = id ? ctx.world().contacts.get(id) : undefined;
    if (!contact) throw notFound('External contact', id ?? '');
    return contact;
  };

  /** Checks `externalIds` and `customFields` against the stored sources and schemas. */
  const checkContact = (body: Record<string, unknown>): void => {
    if (body.externalIds !== undefined) {
      if (!Array.isArray(body.externalIds)) throw invalid('externalIds', 'externalIds must be an array');
      body.externalIds.forEach((entry, index) => {
        const where = `externalIds[${index}]`;
        if (!isPlainObject(entry)) throw invalid(where, `${where} must be {externalSource: {id}, value}`);
        requireString(entry.value, `${where}.value`);
        const source = isPlainObject(entry.externalSource) ? entry.externalSource.id : undefined;
        if (typeof source !== 'string' || !ctx.world().externalSources.has(source)) {
          throw invalid(`${where}.externalSource.id`, `${where}.externalSource.id does not name an external source`);
        }
      });
    }
    for (const field of EMAIL_FIELDS) {
      if (body[field] !== undefined && typeof body[field] !== 'string') throw invalid(field, `${field} must be a string`);
    }
    for (const field of PHONE_FIELDS) {
      if (body[field] !== undefined && !isPlainObject(body[field])) throw invalid(field, `${field} must be a PhoneNumber object`);
    }
    if (body.customFields === undefined || body.customFields === null) return;
    const customFields = requireObject(body.customFields, 'customFields');
    const schemaRef = isPlainObject(body.schema) ? body.schema : undefined;
    const schema = typeof schemaRef?.id === 'string' ? ctx.world().schemas.get(schemaRef.id) : undefined;
    if (!schema) throw invalid('schema.id', 'customFields need schema {id, version} naming a contact schema');
    if (schemaRef?.version !== undefined && schemaRef.version !== schema.version) {
      throw invalid('schema.version', `schema.version ${String(schemaRef.version)} is not the schema's current version ${String(schema.version)}`);
    }
    const jsonSchema = schema.jsonSchema as { properties?: Record<string, unknown>; required?: string[] };
    const known = new Set(Object.keys(jsonSchema.properties ?? {}));
    for (const key of Object.keys(customFields)) {
      if (!known.has(key)) throw invalid(`customFields.${key}`, `customFields.${key} is not a field of schema ${String(schema.id)}`);
    }
    for (const key of jsonSchema.required ?? []) {
      if (customFields[key] === undefined) throw invalid(`customFields.${key}`, `customFields.${key} is required by the schema`);
    }
  };

  const writable = (body: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries(Object.entries(body).filter(([key, value]) => !READ_ONLY.has(key) && value !== null));

  const view = (contact: Record<string, unknown>): Record<string, unknown> => structuredClone(contact);

  /** `modifyDate` moves forward on every write, even twice in one millisecond. */
  const nextModifyDate = (previous: unknown): string => {
    const last = typeof previous === 'string' ? Date.parse(previous) : 0;
    return new Date(Math.max(ctx.clock.now(), last + 1)).toISOString();
  };

  const matches = (contact: Record<string, unknown>, type: string, value: string, sourceId?: string): boolean => {
    switch (type) {
      case 'ExternalId':
        return (Array.isArray(contact.externalIds) ? contact.externalIds : []).some(
          (entry) =>
            isPlainObject(entry) &&
            entry.value === value &&
            (sourceId === undefined || (isPlainObject(entry.externalSource) && entry.externalSource.id === sourceId)),
        );
      case 'Email':
        return EMAIL_FIELDS.some((field) => typeof contact[field] === 'string' && (contact[field] as string).toLowerCase() === value.toLowerCase());
      case 'Phone':
        return PHONE_FIELDS.some((field) => {
          const phone = contact[field];
          return isPlainObject(phone) && (phone.e164 === value || phone.display === value);
        });
      default:
        return false;
    }
  };

  const sourceView = (source: Record<string, unknown>): Record<string, unknown> => structuredClone(source);

  const schemaView = (schema: Record<string, unknown>): Record<string, unknown> => structuredClone(schema);

  return [
    // The schema paths come first: `/contacts/schemas` must not be read as a contact id.
    genesysRoute('GET', '/api/v2/externalcontacts/contacts/schemas', 'getExternalcontactsContactsSchemas', () => {
      const entities = [...ctx.world().schemas.values()].map(schemaView);
      return { status: 200, body: { total: entities.length, entities, selfUri: '/api/v2/externalcontacts/contacts/schemas' } };
    }),
    genesysRoute('POST', '/api/v2/externalcontacts/contacts/schemas', 'postExternalcontactsContactsSchemas', (req) => ({
      status: 200,
      body: schemaView(createContactSchema(ctx, requireObject(req.json(), 'body'))),
    })),
    genesysRoute('POST', '/api/v2/externalcontacts/contacts', 'postExternalcontactsContacts', (req) => {
      const body = requireObject(req.json(), 'body');
      checkContact(body);
      const id = randomUUID();
      const now = ctx.nowIso();
      const contact: Record<string, unknown> = {
        ...writable(body),
        id,
        type: 'Curated',
        createDate: now,
        modifyDate: now,
        selfUri: `/api/v2/externalcontacts/contacts/${id}`,
      };
      ctx.world().contacts.set(id, contact);
      ctx.notePii('postExternalcontactsContacts', id, body);
      return { status: 200, body: view(contact) };
    }),
    genesysRoute('GET', '/api/v2/externalcontacts/contacts/:contactId', 'getExternalcontactsContact', (req) => ({
      status: 200,
      body: view(findContact(req.params.contactId)),
    })),
    genesysRoute('PUT', '/api/v2/externalcontacts/contacts/:contactId', 'putExternalcontactsContact', (req) => {
      const current = findContact(req.params.contactId);
      const body = requireObject(req.json(), 'body');
      checkContact(body);
      const id = current.id as string;
      const replaced: Record<string, unknown> = {
        ...writable(body),
        id,
        type: current.type,
        createDate: current.createDate,
        modifyDate: nextModifyDate(current.modifyDate),
        selfUri: current.selfUri,
      };
      ctx.world().contacts.set(id, replaced);
      ctx.notePii('putExternalcontactsContact', id, body);
      return { status: 200, body: view(replaced) };
    }),
    genesysRoute(
      'POST',
      '/api/v2/externalcontacts/identifierlookup/contacts',
      'postExternalcontactsIdentifierlookupContacts',
      (req) => {
        const body = requireObject(req.json(), 'body');
        const type = requireString(body.type, 'type');
        if (!(CONTACT_IDENTIFIER_TYPES as readonly string[]).includes(type)) {
          throw invalid('type', `type must be one of ${CONTACT_IDENTIFIER_TYPES.join(', ')}`);
        }
        const value = requireString(body.value, 'value');
        let sourceId: string | undefined;
        if (body.externalSource !== undefined) {
          const source = requireObject(body.externalSource, 'externalSource');
          sourceId = requireString(source.id, 'externalSource.id');
        }
        const found = [...ctx.world().contacts.values()].find((contact) => matches(contact, type, value, sourceId));
        if (!found) throw new GenesysHttpError(404, 'No contact matches the identifier', 'not.found');
        return { status: 200, body: view(found) };
      },
    ),
    genesysRoute('GET', '/api/v2/externalcontacts/externalsources', 'getExternalcontactsExternalsources', (req) => {
      const rawLimit = req.query.get('limit');
      const limit = rawLimit === null || rawLimit === '' ? 25 : Number(rawLimit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw invalid('limit', 'limit must be an integer from 1 to 200');
      const name = req.query.get('name');
      const active = req.query.get('active');
      const all = [...ctx.world().externalSources.values()]
        .filter((source) => name === null || String(source.name).toLowerCase() === name.toLowerCase())
        .filter((source) => active === null || String(source.active) === active);
      const cursor = req.query.get('cursor');
      let offset = 0;
      if (cursor) {
        const decoded = /^after:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
        if (!decoded?.[1]) throw invalid('cursor', 'cursor is not valid');
        offset = Number(decoded[1]);
      }
      const entities = all.slice(offset, offset + limit).map(sourceView);
      const body: Record<string, unknown> = { entities, selfUri: '/api/v2/externalcontacts/externalsources' };
      if (offset + limit < all.length) {
        const after = Buffer.from(`after:${offset + limit}`).toString('base64url');
        body.cursors = { after };
        body.nextUri = `/api/v2/externalcontacts/externalsources?cursor=${after}&limit=${limit}`;
      }
      return { status: 200, body };
    }),
    genesysRoute('POST', '/api/v2/externalcontacts/externalsources', 'postExternalcontactsExternalsources', (req) => ({
      status: 200,
      body: sourceView(createExternalSource(ctx, requireObject(req.json(), 'body'))),
    })),
  ];
}

/**
 * Creates a contact schema from a `DataSchema` request body (validated as Genesys does);
 * `id` fixes its id (the local stack's pre-existing set-up), else a new one.
 */
export function createContactSchema(ctx: GenesysContext, body: Record<string, unknown>, id: string = randomUUID()): Record<string, unknown> {
  const jsonSchema = requireObject(body.jsonSchema, 'jsonSchema');
  const properties = requireObject(jsonSchema.properties ?? {}, 'jsonSchema.properties');
  if (jsonSchema.required !== undefined) {
    const required = jsonSchema.required;
    if (!Array.isArray(required) || !required.every((key) => typeof key === 'string' && key in properties)) {
      throw invalid('jsonSchema.required', 'jsonSchema.required must list names of jsonSchema.properties');
    }
  }
  const title = typeof jsonSchema.title === 'string' && jsonSchema.title !== '' ? jsonSchema.title : undefined;
  const name = typeof body.name === 'string' && body.name !== '' ? body.name : title;
  if (!name) throw invalid('jsonSchema.title', 'jsonSchema.title (the schema name) is required');
  const schema: Record<string, unknown> = {
    id,
    name,
    version: 1,
    appliesTo: ['CONTACT'],
    enabled: body.enabled === false ? false : true,
    createdBy: { id: SANDBOX_ORG_ID, selfUri: `/api/v2/users/${SANDBOX_ORG_ID}` },
    dateCreated: ctx.nowIso(),
    jsonSchema: {
      ...structuredClone(jsonSchema),
      $schema: 'http://json-schema.org/draft-04/schema#',
      title: name,
      id: `/api/v2/externalcontacts/contacts/schemas/${id}/versions/1`,
    },
    selfUri: `/api/v2/externalcontacts/contacts/schemas/${id}`,
  };
  ctx.world().schemas.set(id, schema);
  return schema;
}

/** Creates an external source from an `ExternalSource` request body; `id` as for schemas. */
export function createExternalSource(ctx: GenesysContext, body: Record<string, unknown>, id: string = randomUUID()): Record<string, unknown> {
  const name = requireString(body.name, 'name');
  if (body.active !== undefined && typeof body.active !== 'boolean') throw invalid('active', 'active must be a boolean');
  const source: Record<string, unknown> = {
    id,
    name,
    active: (body.active as boolean | undefined) ?? true,
    selfUri: `/api/v2/externalcontacts/externalsources/${id}`,
  };
  if (body.linkConfiguration !== undefined) {
    const link = requireObject(body.linkConfiguration, 'linkConfiguration');
    source.linkConfiguration = { uriTemplate: requireString(link.uriTemplate, 'linkConfiguration.uriTemplate') };
  }
  ctx.world().externalSources.set(id, source);
  return source;
}

/** Another writer changes a contact (merge), as an agent or another system would. */
export function touchContact(ctx: GenesysContext, id: string | undefined, changes: Record<string, unknown>): Record<string, unknown> {
  const contact = id ? ctx.world().contacts.get(id) : undefined;
  if (!contact) throw notFound('External contact', id ?? '');
  for (const [key, value] of Object.entries(changes)) {
    if (READ_ONLY.has(key)) continue;
    if (value === null) delete contact[key];
    else if (key === 'customFields' && isPlainObject(value) && isPlainObject(contact.customFields)) {
      contact.customFields = { ...contact.customFields, ...value };
    } else contact[key] = structuredClone(value);
  }
  const last = typeof contact.modifyDate === 'string' ? Date.parse(contact.modifyDate) : 0;
  contact.modifyDate = new Date(Math.max(ctx.clock.now(), last + 1)).toISOString();
  return structuredClone(contact);
}
