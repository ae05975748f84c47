/**
 * From a validated request to the fields a guest keeps (pure): raw identifiers become
 * salted hashes, attribute values are masked, the origin page loses its query string;
 * and, for updates, the caller's changes laid over the latest stored fields, leaf by leaf,
 * so nothing the caller did not send is ever overwritten.
 */
import { ValidationError, type FieldError } from '#lib/errors';
import { resolveIdentity, type IdentityHashes } from '#lib/identity';
import { maskIdentifiers, maskScalar } from '#lib/pii';
import {
  FIELD_LIMITS,
  MAX_ATTRIBUTES_JSON,
  attributesJson,
  type GuestAttributeValue,
  type GuestChannelContext,
  type GuestConsent,
  type GuestFields,
  type GuestIdentityAttributes,
} from './contact.ts';
import type { ChannelContextInput, CreateGuestBody, UpdateGuestBody } from './schema.ts';

/** The fields of a guest a caller changes, leaf by leaf, already minimised and hashed. */
export interface GuestChanges {
  consent?: Partial<GuestConsent>;
  identityAttributes?: GuestIdentityAttributes;
  channelContext?: GuestChannelContext;
  attributes?: Record<string, GuestAttributeValue>;
}

/** The groups of a guest that `GuestChanges` touches, in a stable order. */
const GROUPS = ['consent', 'identityAttributes', 'channelContext', 'attributes'] as const;

/**
 * The origin page without query string and fragment: they often carry identifiers,
 * tokens or tracking ids, and routing and analytics only need the page.
 */
export function minimiseOriginPage(uri: string): string {
  try {
    const url = new URL(uri);
    return `${url.origin}${url.pathname}`;
  } catch {
    // A URI the schema accepts but WHATWG URL parsing does not: cut the same parts by hand.
    return uri.split(/[?#]/, 1)[0] ?? '';
  }
}

/**
 * Attribute values masked the way every route masks them (`maskScalar`): identifiers in
 * strings, integers whose digits read as a phone number or SSN, and whole values under
 * keys that name an identifier (`email`, `mobile`, `ssn`); names of masked keys.
 */
export function maskAttributes(attributes: Record<string, GuestAttributeValue>): {
  attributes: Record<string, GuestAttributeValue>;
  maskedKeys: string[];
} {
  const masked: Record<string, GuestAttributeValue> = {};
  const maskedKeys: string[] = [];
  for (const [key, value] of Object.entries(attributes)) {
    const result = maskScalar(key, value);
    masked[key] = result.value;
    if (result.masked) maskedKeys.push(key);
  }
  return { attributes: masked, maskedKeys };
}

function channelContextOf(input: ChannelContextInput): GuestChannelContext {
  return {
    // A path can carry an identifier too (`/users/jane@example.com`): masked like any text.
    ...(input.originPage !== undefined ? { originPage: maskIdentifiers(minimiseOriginPage(input.originPage)).value } : {}),
    ...(input.campaignId !== undefined ? { campaignId: input.campaignId } : {}),
  };
}

/**
 * The caller's changes as Genesys will store them. Raw `email` / `phone` are hashed here
 * with the identity salt and dropped; nothing raw survives in the result. What the guest
 * schema cannot store whatever it is merged with is refused here (400), before any call.
 */
export function changesFromBody(
  body: CreateGuestBody | UpdateGuestBody,
  salt: string,
): { changes: GuestChanges; identity: IdentityHashes; maskedKeys: string[] } {
  const identity = resolveIdentity({ email: body.email, phone: body.phone }, salt);
  const given = body.identityAttributes ?? {};
  const identityAttributes: GuestIdentityAttributes = {
    ...(given.emailHash !== undefined ? { emailHash: given.emailHash.toLowerCase() } : {}),
    ...(given.phoneHash !== undefined ? { phoneHash: given.phoneHash.toLowerCase() } : {}),
    ...(identity.emailHash !== undefined ? { emailHash: identity.emailHash } : {}),
    ...(identity.phoneHash !== undefined ? { phoneHash: identity.phoneHash } : {}),
    ...(given.deviceFingerprint !== undefined ? { deviceFingerprint: given.deviceFingerprint } : {}),
  };
  const masked = body.attributes === undefined ? undefined : maskAttributes(body.attributes);
  const changes: GuestChanges = {
    ...(body.consent !== undefined ? { consent: { ...body.consent } } : {}),
    ...(Object.keys(identityAttributes).length > 0 ? { identityAttributes } : {}),
    ...(body.channelContext !== undefined ? { channelContext: channelContextOf(body.channelContext) } : {}),
    ...(masked !== undefined ? { attributes: masked.attributes } : {}),
  };
  assertStorable({
    identityAttributes: {},
    consent: { marketing: false, dataProcessing: false },
    ...(changes.channelContext ? { channelContext: changes.channelContext } : {}),
    attributes: changes.attributes ?? {},
  });
  return { changes, identity, maskedKeys: masked?.maskedKeys ?? [] };
}

/**
 * The fields of a new guest: consent as sent, and whatever else the caller gave. Checked
 * against what the guest schema can hold (`assertStorable`).
 */
export function createGuestFields(consent: GuestConsent, changes: GuestChanges): GuestFields {
  const fields: GuestFields = {
    identityAttributes: { ...changes.identityAttributes },
    consent: { marketing: consent.marketing, dataProcessing: consent.dataProcessing },
    ...(changes.channelContext ? { channelContext: { ...changes.channelContext } } : {}),
    attributes: { ...changes.attributes },
  };
  assertStorable(fields);
  return fields;
}

/** Names of the changed fields (`consent.marketing`, `attributes.tier`, ...), never their values. */
export function changedFieldNames(changes: GuestChanges): string[] {
  return GROUPS.flatMap((group) => Object.keys(changes[group] ?? {}).map((key) => `${group}.${key}`)).sort();
}

/**
 * The caller's changes laid over `latest`: each group the caller touched is the latest
 * group with the caller's leaves over it, so a leaf the caller did not send keeps its
 * latest value (another writer's, when one wrote in between). Checked against what the
 * guest schema can hold: the merged attributes may outgrow it even when neither side did.
 */
export function applyChanges(latest: GuestFields, changes: GuestChanges): GuestFields {
  const channelContext = changes.channelContext ? { ...latest.channelContext, ...changes.channelContext } : latest.channelContext;
  const fields: GuestFields = {
    identityAttributes: { ...latest.identityAttributes, ...changes.identityAttributes },
    consent: { ...latest.consent, ...changes.consent },
    ...(channelContext ? { channelContext } : {}),
    attributes: { ...latest.attributes, ...changes.attributes },
  };
  assertStorable(fields);
  return fields;
}

/**
 * Refuses (400) what the guest contact schema cannot store: Genesys caps a url field at
 * 200 characters, an identifier at 100 and a long text at 1000, and the attributes' JSON
 * spreads over ten long text fields. Checked after minimisation and merging, so a long
 * query string (removed) never counts.
 */
export function assertStorable(fields: GuestFields): void {
  const errors: FieldError[] = [];
  const page = fields.channelContext?.originPage;
  if (page !== undefined && page.length > FIELD_LIMITS.url) {
    errors.push({ path: '/channelContext/originPage', message: `must be at most ${FIELD_LIMITS.url} characters without its query string and fragment` });
  }
  const campaign = fields.channelContext?.campaignId;
  if (campaign !== undefined && campaign.length > FIELD_LIMITS.identifier) {
    errors.push({ path: '/channelContext/campaignId', message: `must be at most ${FIELD_LIMITS.identifier} characters` });
  }
  const size = attributesJson(fields.attributes).length;
  if (Object.keys(fields.attributes).length > 0 && size > MAX_ATTRIBUTES_JSON) {
    errors.push({ path: '/attributes', message: `must fit in ${MAX_ATTRIBUTES_JSON} characters as JSON (with the guest's other attributes: ${size})` });
  }
  if (errors.length > 0) throw new ValidationError('The guest does not fit the Genesys contact schema.', errors);
}
