/**
 * Guest attributes for the Messenger (pure): only names on `GUEST_ATTRIBUTE_ALLOWLIST`,
 * matched exactly (case-sensitive, as Genesys matches attribute names), and never a value
 * holding an email, phone number or SSN, whatever the allowlist says.
 */
import { containsIdentifier } from '#lib/pii';
import type { WidgetUser } from './claims.ts';

/** Why a candidate attribute was left out. */
export type DroppedReason = 'not_allowlisted' | 'identifier';

/** The filtered attributes and what was left out (names only, never values). */
export interface FilteredAttributes {
  attributes: Record<string, string>;
  dropped: Array<{ name: string; reason: DroppedReason }>;
}

/**
 * The attributes the user's claims can supply, by their Genesys names. Name, email and
 * phone are never candidates: they prefill the user's own form (`guestDetails`) only.
 */
export function candidateAttributes(user: WidgetUser): Record<string, string> {
  return {
    userId: user.userId,
    ...(user.userTier !== undefined ? { userTier: user.userTier } : {}),
    ...(user.lastOrderDate !== undefined ? { lastOrderDate: user.lastOrderDate } : {}),
  };
}

/** Keeps the candidates whose name is on the allowlist (exact match) and whose value holds no identifier. */
export function filterGuestAttributes(candidates: Record<string, string>, allowlist: readonly string[]): FilteredAttributes {
  const allowed = new Set(allowlist);
  const attributes: Record<string, string> = {};
  const dropped: FilteredAttributes['dropped'] = [];
  for (const [name, value] of Object.entries(candidates)) {
    if (!allowed.has(name)) dropped.push({ name, reason: 'not_allowlisted' });
    else if (containsIdentifier(value)) dropped.push({ name, reason: 'identifier' });
    else attributes[name] = value;
  }
  return { attributes, dropped };
}
