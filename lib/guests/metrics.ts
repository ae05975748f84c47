/**
 * Engagement metrics of one guest (contract section 2, `GET /guests/{guestId}/metrics`),
 * computed from what Genesys keeps on the guest. Pure.
 */
import type { Guest } from '#lib/genesys';

/** The metrics document the route answers with. */
export interface EngagementMetrics {
  guestId: string;
  /** From `createdDate` to `closedDate`, or to `modifiedDate` while the session is open; two decimals. */
  durationMinutes: number;
  messageCount: number;
  /** Genesys' average agent response time; `null` when it has none (no messages answered yet). */
  avgResponseTimeMs: number | null;
  conversionFlag: boolean;
  calculatedAt: string;
}

const finite = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/**
 * The guest's engagement. Unknown or unparseable dates count as no duration; counters
 * Genesys did not send count as zero; the conversion flag is Genesys' own when present,
 * else the `converted` attribute (`true` or `"true"`).
 */
export function engagementMetrics(guest: Guest, now: Date = new Date()): EngagementMetrics {
  const created = Date.parse(guest.createdDate);
  const ended = Date.parse(guest.closedDate ?? guest.modifiedDate);
  const durationMs = Number.isNaN(created) || Number.isNaN(ended) ? 0 : Math.max(0, ended - created);
  const messageCount = finite(guest.messageCount) && guest.messageCount > 0 ? Math.floor(guest.messageCount) : 0;
  const converted = guest.attributes?.['converted'];
  return {
    guestId: guest.id,
    durationMinutes: Math.round((durationMs / 60_000) * 100) / 100,
    messageCount,
    avgResponseTimeMs: finite(guest.avgResponseTimeMs) && guest.avgResponseTimeMs >= 0 ? Math.round(guest.avgResponseTimeMs) : null,
    conversionFlag: typeof guest.conversionFlag === 'boolean' ? guest.conversionFlag : converted === true || converted === 'true',
    calculatedAt: now.toISOString(),
  };
}
