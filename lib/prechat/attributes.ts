/**
 * What pre-chat enrichment writes onto the guest participant (pure): the merged profile as
 * flat string attributes (Genesys participant data holds strings only), identifiers masked
 * in every value, raw email and phone never included.
 *
 * Every name carries the prefix `prechat:`. Prefill's and the widget's attributes (the
 * page's own keys and `gsRef`) live on the same participant, and the events function
 * re-asserts every prepared attribute whose value differs: if pre-chat wrote `loyaltyTier`
 * and a page had prepared `loyaltyTier` too, the two would overwrite each other on every
 * `attributes` event. A prefill key must match `^[A-Za-z][A-Za-z0-9_.-]{0,63}$`, which
 * cannot contain `:`, so no prepared attribute can ever share a name with pre-chat's: the
 * namespaces are disjoint by construction, not by convention. It also tells an agent's
 * script or an Architect `Get Participant Data` where a value came from.
 */
import type { AttributeValue, FlatAttributes } from '#lib/genesys';
import { maskScalar } from '#lib/pii';
import type { EnrichedProfile } from './merge.ts';

/** The prefix of every participant attribute pre-chat writes (see the module comment). */
export const PRECHAT_ATTRIBUTE_PREFIX = 'prechat:';

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

/** Where the conversation is routed: the `ROUTING_QUEUES` key used and its queue id. */
export interface RoutingChoice {
  /** The tier key of `ROUTING_QUEUES` the queue was taken from (`standard` for an unknown tier). */
  routingQueue: string;
  routingQueueId: string;
}

/**
 * The participant attributes of an enrichment: the merged profile, whether the CRM knew
 * the guest, and the queue chosen, every value a string under `prechat:`.
 */
export function participantAttributes(profile: EnrichedProfile, enriched: boolean, routing: RoutingChoice): Record<string, string> {
  const flat = toFlatAttributes({
    customerId: profile.customerId,
    firstName: profile.firstName,
    lastName: profile.lastName,
    loyaltyTier: profile.loyaltyTier,
    accountStatus: profile.accountStatus,
    loyaltyPoints: profile.loyaltyPoints,
    subject: profile.subject,
    priority: profile.priority,
    enriched,
    routingQueue: routing.routingQueue,
    routingQueueId: routing.routingQueueId,
  });
  return Object.fromEntries(Object.entries(flat).map(([key, value]) => [`${PRECHAT_ATTRIBUTE_PREFIX}${key}`, String(value)]));
}
