/**
 * The authenticated end user as the widget route sees them: the claims of the end-user
 * JWT (docs/api.md section 2) that API Gateway's authorizer verified. Pure.
 */
import { UnauthorizedError } from '#lib/errors';

/** The user, by the claims the contract names. */
export interface WidgetUser {
  /** `sub` */
  userId: string;
  /** `tier` */
  userTier?: string;
  /** `last_order_date` */
  lastOrderDate?: string;
  name?: string;
  email?: string;
  /** `phone_number` */
  phone?: string;
}

/** A claim as a non-empty string (API Gateway passes claims as strings; numbers are accepted too). */
function claim(claims: Record<string, unknown>, name: string): string | undefined {
  const value = claims[name];
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/**
 * Reads the user from the verified claims. Without a subject there is no user to
 * configure the widget for: that token is refused like a missing one (401).
 */
export function widgetUserFromClaims(claims: Record<string, unknown>): WidgetUser {
  const userId = claim(claims, 'sub');
  if (!userId) throw new UnauthorizedError('The bearer token names no user (its sub claim is missing or empty).');
  const optional = {
    userTier: claim(claims, 'tier'),
    lastOrderDate: claim(claims, 'last_order_date'),
    name: claim(claims, 'name'),
    email: claim(claims, 'email'),
    phone: claim(claims, 'phone_number'),
  };
  return {
    userId,
    ...Object.fromEntries(Object.entries(optional).filter((entry): entry is [string, string] => entry[1] !== undefined)),
  };
}
