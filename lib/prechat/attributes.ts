/**
 * What pre-chat enrichment tells Genesys (pure): contact attributes as flat strings,
 * numbers and booleans (Genesys rejects anything nested), identifiers masked in every
 * string, raw email and phone never included.
 */
import type { AttributeValue, FlatAttributes } from '#lib/genesys';
import { maskScalar } from '#lib/pii';
import type { EnrichedProfile } from './merge.ts';

/**
 * Keeps only flat values: strings and finite numbers (identifiers masked, a CRM number
 * that is a phone number included) and booleans;
 * `undefined`, `null`, objects, arrays and non-finite numbers are left out.
 */
export function toFlatAttributes(values: Record<string, unknown>): FlatAttributes {
  const flat: FlatAttributes = {};
  for (const [key, value] of Object.entries(values)) {
    let kept: AttributeValue | undefined;
    if (typeof value === 'boolean') kept = value;
    else if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) kept = maskScalar(key, value).value;
    if (kept !== undefined) flat[key] = kept;
  }
  return flat;
}

/** The attributes a new conversation is created with: what routing rules evaluate. */
export function routingAttributes(profile: EnrichedProfile): FlatAttributes {
  return toFlatAttributes({
    preChatSubject: profile.subject,
    preChatPriority: profile.priority,
    loyaltyTier: profile.loyaltyTier,
  });
}

/** The full contact attributes written after the conversation exists. */
export function contactAttributes(
  profile: EnrichedProfile,
  enriched: boolean,
  resolutionMethod: 'email' | 'phone' | 'unknown',
): FlatAttributes {
  return toFlatAttributes({
    customerId: profile.customerId,
    firstName: profile.firstName,
    lastName: profile.lastName,
    loyaltyTier: profile.loyaltyTier,
    accountStatus: profile.accountStatus,
    loyaltyPoints: profile.loyaltyPoints,
    preChatSubject: profile.subject,
    preChatPriority: profile.priority,
    enriched,
    identityResolution: resolutionMethod,
  });
}
