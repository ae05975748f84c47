/**
 * The guest audit trail: one structured log entry per lifecycle event, naming which
 * fields changed and who changed them, never the values (they may be identifiers or
 * hashes of them). Genesys keeps its own platform audit, read with `npm run audit`.
 */
import { logger } from '#lib/observability';

/** Guest lifecycle events the suite audits. */
export type GuestAuditEvent = 'GUEST_CREATED' | 'GUEST_UPDATED';

/** One audit entry. */
export interface GuestAuditEntry {
  eventType: GuestAuditEvent;
  guestId: string;
  /** The calling client (`client_id` or `sub` of its token), or `unknown`. */
  actor: string;
  /** Names such as `consent.marketing` or `attributes.tier`. */
  changedFields: string[];
  /** How the identity was resolved at creation: `email`, `phone` or `unknown`. */
  resolutionMethod?: 'email' | 'phone' | 'unknown';
  /** Attribute names whose values had identifiers masked. */
  maskedAttributes?: string[];
  /** For updates: other writers' changes merged before the write. */
  conflictsResolved?: number;
  requestId: string;
  timestamp: string;
}

/** The caller as its JWT names it (machine tokens carry `client_id`, others only `sub`). */
export function actorOf(claims: Record<string, unknown>): string {
  for (const name of ['client_id', 'azp', 'sub']) {
    const value = claims[name];
    if (typeof value === 'string' && value.trim() !== '') return value;
  }
  return 'unknown';
}

/** Writes the entry to the structured log (`audit` key), where log queries and retention apply. */
export function writeAuditEntry(entry: GuestAuditEntry): void {
  logger.info('Guest audit', { audit: entry });
}
