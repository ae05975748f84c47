/**
 * The guest audit trail: one structured `Guest audit` log entry per lifecycle event, naming
 * which fields changed and who changed them, never the values (they may be identifiers or
 * hashes of them). Written by the HTTP stack's audit middleware once the guest is written,
 * even when the answer is then a failure (the sync job not queued). Genesys keeps its own
 * platform audit, read with `npm run audit`.
 */
import type { AttemptAudit } from '#lib/lambda';

/** Guest lifecycle events the suite audits. */
export type GuestAuditEvent = 'GUEST_CREATED' | 'GUEST_UPDATED';

/** What a create or update notes once the guest is written, for its audit entry. */
export interface GuestAuditFacts {
  eventType: GuestAuditEvent;
  guestId: string;
  /** Names such as `consent.marketing` or `attributes.tier`. */
  changedFields: string[];
  /** How the identity was resolved at creation: `email`, `phone` or `unknown`. */
  resolutionMethod?: 'email' | 'phone' | 'unknown';
  /** Attribute names whose values had identifiers masked. */
  maskedAttributes?: string[];
  /** For updates: other writers' changes merged before the write. */
  conflictsResolved?: number;
}

/** One audit entry: the facts, who wrote, and when. */
export interface GuestAuditEntry extends GuestAuditFacts {
  /** The calling client (`client_id` or `sub` of its token), or `unknown`. */
  actor: string;
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

/**
 * The guest audit: the entry goes to the structured log (`audit` key), where log queries
 * and retention apply; an attempt that wrote no guest writes none.
 */
export const guestAudit: AttemptAudit<GuestAuditFacts> = {
  message: 'Guest audit',
  line: ({ facts, claims, requestId, endedAt }) => {
    if (facts.eventType === undefined || facts.guestId === undefined) return undefined;
    const entry: GuestAuditEntry = {
      eventType: facts.eventType,
      guestId: facts.guestId,
      actor: actorOf(claims),
      changedFields: facts.changedFields ?? [],
      ...(facts.resolutionMethod !== undefined ? { resolutionMethod: facts.resolutionMethod } : {}),
      ...(facts.conflictsResolved !== undefined ? { conflictsResolved: facts.conflictsResolved } : {}),
      ...(facts.maskedAttributes && facts.maskedAttributes.length > 0 ? { maskedAttributes: facts.maskedAttributes } : {}),
      requestId,
      timestamp: endedAt.toISOString(),
    };
    return { audit: entry };
  },
};
