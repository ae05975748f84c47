/**
 * From a validated request to what Genesys receives (pure): raw identifiers become
 * salted hashes, attribute values are masked, the origin page loses its query string;
 * and, for updates, the caller's changes laid over the latest stored guest, field by
 * field, so nothing the caller did not send is ever overwritten.
 */
import type {
  CreateGuestRequest,
  FlatAttributes,
  Guest,
  GuestChannelContext,
  GuestConsent,
  GuestIdentityAttributes,
  GuestPatch,
} from '#lib/genesys';
import { resolveIdentity, type IdentityHashes } from '#lib/identity';
import { maskIdentifiers, maskScalar } from '#lib/pii';
import type { ChannelContextInput, CreateGuestBody, UpdateGuestBody } from './schema.ts';

/** The fields of a guest a caller changes, leaf by leaf, already minimised and hashed. */
export interface GuestChanges {
  consent?: Partial<GuestConsent>;
  identityAttributes?: GuestIdentityAttributes;
  channelContext?: GuestChannelContext;
  attributes?: FlatAttributes;
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
export function maskAttributes(attributes: Record<string, string | number | boolean>): {
  attributes: FlatAttributes;
  maskedKeys: string[];
} {
  const masked: FlatAttributes = {};
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
 * with the identity salt and dropped; nothing raw survives in the result.
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
  return { changes, identity, maskedKeys: masked?.maskedKeys ?? [] };
}

/** The minimised create request: consent, hashes, context and attributes; nothing else. */
export function createGuestRequest(consent: GuestConsent, changes: GuestChanges): CreateGuestRequest {
  return {
    channel: 'webmessaging',
    consent: { marketing: consent.marketing, dataProcessing: consent.dataProcessing },
    ...(changes.identityAttributes ? { identityAttributes: changes.identityAttributes } : {}),
    ...(changes.channelContext ? { channelContext: changes.channelContext } : {}),
    ...(changes.attributes ? { attributes: changes.attributes } : {}),
  };
}

/** Names of the changed fields (`consent.marketing`, `attributes.tier`, ...), never their values. */
export function changedFieldNames(changes: GuestChanges): string[] {
  return GROUPS.flatMap((group) => Object.keys(changes[group] ?? {}).map((key) => `${group}.${key}`)).sort();
}

/**
 * The PATCH body that applies the caller's changes onto `latest`: each group the caller
 * touched is sent whole, as the latest group with the caller's leaves laid over it, so a
 * leaf the caller did not send keeps its latest value whether Genesys replaces or merges
 * the group. Groups the caller did not touch are not sent at all.
 */
export function applyChanges(latest: Pick<Guest, 'consent' | 'identityAttributes' | 'channelContext' | 'attributes'>, changes: GuestChanges): GuestPatch {
  const patch: GuestPatch = {};
  if (changes.consent) patch.consent = { ...latest.consent, ...changes.consent };
  if (changes.identityAttributes) patch.identityAttributes = { ...latest.identityAttributes, ...changes.identityAttributes };
  if (changes.channelContext) patch.channelContext = { ...latest.channelContext, ...changes.channelContext };
  if (changes.attributes) patch.attributes = { ...latest.attributes, ...changes.attributes };
  return patch;
}
