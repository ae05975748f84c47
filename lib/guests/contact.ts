/**
 * A guest as a Genesys external contact (docs/api.md section 2), both ways. Pure.
 *
 * - The identity hashes are `externalIds` under the guest external source
 *   (`GUEST_EXTERNAL_SOURCE_ID`), each value prefixed with its kind (`email:<hash>`,
 *   `phone:<hash>`) so a reader can tell them apart; a create also carries `create:<uuid>`,
 *   the key that finds the contact again when the create's answer was lost.
 * - Consent, channel context, the device fingerprint and the attributes are `customFields`
 *   of the guest contact schema (`GUEST_CONTACT_SCHEMA_ID`, defined in `setup.ts`). Genesys
 *   types custom fields by their name's suffix and caps their length (text 100, url 200,
 *   identifier 100, longtext 1000 characters), so the flat attribute map is stored as JSON
 *   split over `attributes1_longtext` ... `attributes10_longtext`.
 * - No name, email or phone field of the contact is ever filled in.
 */
import { createHash } from 'node:crypto';
import { DependencyError, NotFoundError } from '#lib/errors';
import type { ExternalContact, ExternalId } from '#lib/genesys';

/** A flat attribute value, as callers send them. */
export type GuestAttributeValue = string | number | boolean;

/** Hashed identifiers (salted SHA-256, 64 hex) and an opaque device fingerprint. */
export interface GuestIdentityAttributes {
  emailHash?: string;
  phoneHash?: string;
  deviceFingerprint?: string;
}

/** The guest's consent decisions. */
export interface GuestConsent {
  marketing: boolean;
  dataProcessing: boolean;
}

/** Where the guest's conversation started (origin page without query string and fragment). */
export interface GuestChannelContext {
  originPage?: string;
  campaignId?: string;
}

/** The fields of a guest the suite manages (what an update merges and the ETag covers). */
export interface GuestFields {
  identityAttributes: GuestIdentityAttributes;
  consent: GuestConsent;
  channelContext?: GuestChannelContext;
  attributes: Record<string, GuestAttributeValue>;
}

/** The suite's guest representation, answered by every guest route. */
export interface Guest extends GuestFields {
  id: string;
  createdDate: string;
  modifiedDate: string;
}

/** Where guests live in the organisation (the ids `npm run setup-genesys` prints). */
export interface GuestContactSettings {
  externalSourceId: string;
  contactSchemaId: string;
}

/** Custom field names of the guest schema (the suffix is the Genesys field type). */
export const GUEST_FIELDS = {
  marketingConsent: 'marketingConsent_checkbox',
  dataProcessingConsent: 'dataProcessingConsent_checkbox',
  originPage: 'originPage_url',
  campaignId: 'campaignId_identifier',
  deviceFingerprint: 'deviceFingerprint_longtext',
} as const;

/** Longest value of each field type the guest schema uses (Genesys's limits). */
export const FIELD_LIMITS = { url: 200, identifier: 100, longtext: 1000 } as const;

/** How many longtext fields hold the attributes' JSON. */
export const ATTRIBUTE_CHUNKS = 10;

/** Longest attribute map, as compact JSON, the guest schema can hold. */
export const MAX_ATTRIBUTES_JSON = ATTRIBUTE_CHUNKS * FIELD_LIMITS.longtext;

/** The custom field holding the n-th (1-based) piece of the attributes' JSON. */
export const attributeChunkField = (n: number): string => `attributes${n}_longtext`;

/** Kinds of external id a guest carries. */
export type GuestExternalIdKind = 'email' | 'phone' | 'create';

/** The external id value of a hash (or create key): `email:<hash>`, `phone:<hash>`, `create:<uuid>`. */
export function guestExternalIdValue(kind: GuestExternalIdKind, value: string): string {
  return `${kind}:${value}`;
}

/** The attribute map as the compact JSON the schema stores (keys sorted, so equal maps give equal text). */
export function attributesJson(attributes: Record<string, GuestAttributeValue>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

/** Splits the attributes' JSON over the chunk fields (empty map: no field at all). */
function attributeFields(attributes: Record<string, GuestAttributeValue>): Record<string, string> {
  if (Object.keys(attributes).length === 0) return {};
  const json = attributesJson(attributes);
  const fields: Record<string, string> = {};
  for (let i = 0; i * FIELD_LIMITS.longtext < json.length; i += 1) {
    fields[attributeChunkField(i + 1)] = json.slice(i * FIELD_LIMITS.longtext, (i + 1) * FIELD_LIMITS.longtext);
  }
  return fields;
}

/** The custom fields of the guest schema for these fields (only the ones that have a value). */
export function guestCustomFields(fields: GuestFields): Record<string, string | boolean> {
  return {
    [GUEST_FIELDS.marketingConsent]: fields.consent.marketing,
    [GUEST_FIELDS.dataProcessingConsent]: fields.consent.dataProcessing,
    ...(fields.channelContext?.originPage !== undefined ? { [GUEST_FIELDS.originPage]: fields.channelContext.originPage } : {}),
    ...(fields.channelContext?.campaignId !== undefined ? { [GUEST_FIELDS.campaignId]: fields.channelContext.campaignId } : {}),
    ...(fields.identityAttributes.deviceFingerprint !== undefined
      ? { [GUEST_FIELDS.deviceFingerprint]: fields.identityAttributes.deviceFingerprint }
      : {}),
    ...attributeFields(fields.attributes),
  };
}

/** The custom field names this module writes (anything else on a contact is left as it is). */
function isManagedField(name: string): boolean {
  return (Object.values(GUEST_FIELDS) as string[]).includes(name) || /^attributes([1-9]|10)_longtext$/.test(name);
}

const externalId = (settings: GuestContactSettings, kind: GuestExternalIdKind, value: string): ExternalId => ({
  externalSource: { id: settings.externalSourceId },
  value: guestExternalIdValue(kind, value),
});

/** The guest's external ids (hashes, and the create key when given). */
function guestExternalIds(settings: GuestContactSettings, fields: GuestFields, createKey?: string): ExternalId[] {
  return [
    ...(fields.identityAttributes.emailHash ? [externalId(settings, 'email', fields.identityAttributes.emailHash)] : []),
    ...(fields.identityAttributes.phoneHash ? [externalId(settings, 'phone', fields.identityAttributes.phoneHash)] : []),
    ...(createKey ? [externalId(settings, 'create', createKey)] : []),
  ];
}

/** The body of the create: schema reference, external ids and custom fields; nothing else. */
export function newGuestContact(
  settings: GuestContactSettings,
  schemaVersion: number,
  fields: GuestFields,
  createKey: string,
): ExternalContact {
  return {
    schema: { id: settings.contactSchemaId, version: schemaVersion },
    externalIds: guestExternalIds(settings, fields, createKey),
    customFields: guestCustomFields(fields),
  };
}

/** Fields Genesys sets itself; a PUT leaves them out. */
const READ_ONLY = ['id', 'createDate', 'modifyDate', 'selfUri', 'type', 'identifiers', 'canonicalContact', 'mergeSet', 'mergedFrom', 'mergedTo', 'mergeOperation'];

/**
 * The whole contact to PUT: the latest contact as read, with the guest's external ids and
 * managed custom fields replaced by `fields`. Everything else on it (ids of other sources,
 * fields another system or an agent filled in) is sent back unchanged, since a PUT
 * replaces the whole contact. The create key is kept.
 */
export function updatedGuestContact(settings: GuestContactSettings, latest: ExternalContact, fields: GuestFields): ExternalContact {
  const body = Object.fromEntries(Object.entries(latest).filter(([key]) => !READ_ONLY.includes(key))) as ExternalContact;
  const others = (latest.externalIds ?? []).filter(
    (entry) => entry.externalSource.id !== settings.externalSourceId || entry.value.startsWith('create:'),
  );
  const unmanaged = Object.fromEntries(Object.entries(latest.customFields ?? {}).filter(([name]) => !isManagedField(name)));
  return {
    ...body,
    externalIds: [...guestExternalIds(settings, fields), ...others],
    customFields: { ...unmanaged, ...guestCustomFields(fields) },
  };
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** The attributes joined back from their chunk fields. */
function readAttributes(guestId: string, customFields: Record<string, unknown>): Record<string, GuestAttributeValue> {
  let json = '';
  for (let n = 1; n <= ATTRIBUTE_CHUNKS; n += 1) json += text(customFields[attributeChunkField(n)]) ?? '';
  if (json === '') return {};
  try {
    const parsed = JSON.parse(json) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      return Object.fromEntries(
        Object.entries(parsed).filter((entry): entry is [string, GuestAttributeValue] => ['string', 'number', 'boolean'].includes(typeof entry[1])),
      );
    }
  } catch {
    // falls through to the error below
  }
  throw new DependencyError(`The attributes stored on guest ${guestId} in Genesys are not valid JSON; they were changed outside the suite.`);
}

/**
 * The guest a contact holds, or a 404 when the contact is not a guest (it does not use the
 * guest schema): the guest routes never show other contacts.
 */
export function guestFromContact(settings: GuestContactSettings, contact: ExternalContact, askedId?: string): Guest {
  const id = contact.id ?? askedId ?? '';
  if (contact.schema?.id !== settings.contactSchemaId) throw new NotFoundError(`Guest ${id} not found`);
  const customFields = contact.customFields ?? {};
  const ours = (contact.externalIds ?? []).filter((entry) => entry.externalSource.id === settings.externalSourceId);
  const hashOf = (kind: GuestExternalIdKind): string | undefined =>
    ours.find((entry) => entry.value.startsWith(`${kind}:`))?.value.slice(kind.length + 1);
  const emailHash = hashOf('email');
  const phoneHash = hashOf('phone');
  const deviceFingerprint = text(customFields[GUEST_FIELDS.deviceFingerprint]);
  const originPage = text(customFields[GUEST_FIELDS.originPage]);
  const campaignId = text(customFields[GUEST_FIELDS.campaignId]);
  return {
    id,
    identityAttributes: {
      ...(emailHash ? { emailHash } : {}),
      ...(phoneHash ? { phoneHash } : {}),
      ...(deviceFingerprint ? { deviceFingerprint } : {}),
    },
    consent: {
      marketing: customFields[GUEST_FIELDS.marketingConsent] === true,
      dataProcessing: customFields[GUEST_FIELDS.dataProcessingConsent] === true,
    },
    ...(originPage || campaignId ? { channelContext: { ...(originPage ? { originPage } : {}), ...(campaignId ? { campaignId } : {}) } } : {}),
    attributes: readAttributes(id, customFields),
    createdDate: contact.createDate ?? '',
    modifiedDate: contact.modifyDate ?? '',
  };
}

/** The managed fields of a guest (what a write starts from). */
export function fieldsOf(guest: Guest): GuestFields {
  return {
    identityAttributes: { ...guest.identityAttributes },
    consent: { ...guest.consent },
    ...(guest.channelContext ? { channelContext: { ...guest.channelContext } } : {}),
    attributes: { ...guest.attributes },
  };
}

/**
 * The guest's strong entity tag: a digest of the contact's `modifyDate` and the managed
 * fields. Genesys sends no ETag for contacts; `modifyDate` alone would miss a change made
 * within the same millisecond, the fields alone would miss a change and its undoing.
 */
export function guestEtag(guest: Guest): string {
  const canonical = JSON.stringify([
    guest.modifiedDate,
    guest.identityAttributes.emailHash ?? null,
    guest.identityAttributes.phoneHash ?? null,
    guest.identityAttributes.deviceFingerprint ?? null,
    guest.consent.marketing,
    guest.consent.dataProcessing,
    guest.channelContext?.originPage ?? null,
    guest.channelContext?.campaignId ?? null,
    attributesJson(guest.attributes),
  ]);
  return `"${createHash('sha256').update(canonical).digest('base64url').slice(0, 27)}"`;
}
