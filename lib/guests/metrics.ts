/**
 * Engagement metrics of one guest (docs/api.md section 2, `GET /guests/{guestId}/metrics`)
 * from Genesys analytics: the conversation details (`POST
 * /api/v2/analytics/conversations/details/query`, segment filter `externalContactId` =
 * the guest id) of the conversations of the last `GUEST_METRICS_DAYS` days.
 *
 * Which analytics fields feed each number (model `AnalyticsConversationWithoutAttributes`):
 * - `conversationCount`: the distinct `conversationId`s found.
 * - `durationMinutes`: the sum over those conversations of `conversationEnd -
 *   conversationStart` (a conversation still open counts up to `calculatedAt`), in
 *   minutes, two decimals.
 * - `messageCount`: over the customer participants' sessions, the sum of the `oMessageCount`
 *   metric values; a session without that metric counts its `mediaCount` (what the sandbox
 *   Genesys reports per guest message).
 * - `avgResponseTimeMs`: the mean of every `tAgentResponseTime` metric value (one per agent
 *   reply) of the agent participants' sessions, rounded; `null` when no agent replied.
 * - `conversionFlag`: Genesys analytics has no notion of a conversion; it is the guest's own
 *   `converted` attribute (`true` or `"true"`), read from the contact.
 * - `calculatedAt`: when the numbers were computed.
 *
 * The query is asked in windows of at most 7 days and pages of 100 conversations (the
 * `PagingSpec` limit), so it stays within the details query's interval limit.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DependencyError } from '#lib/errors';
import { genesysOperations, type AnalyticsConversation, type Deadline } from '#lib/genesys';
import { MetricNames, metrics } from '#lib/observability';
import type { Guest, GuestContactSettings } from './contact.ts';
import { readGuest, type GuestGenesys } from './store.ts';

/** The metrics document the route answers with. */
export interface EngagementMetrics {
  guestId: string;
  conversationCount: number;
  durationMinutes: number;
  messageCount: number;
  /** `null` when no agent replied in the window. */
  avgResponseTimeMs: number | null;
  conversionFlag: boolean;
  calculatedAt: string;
}

/** Longest interval asked in one details query. */
export const METRICS_WINDOW_DAYS = 7;
/** Conversations per page (the analytics `PagingSpec` maximum). */
export const METRICS_PAGE_SIZE = 100;
/** Pages read per window before giving up (10,000 conversations of one guest in a week). */
const MAX_PAGES_PER_WINDOW = 100;

const DAY_MS = 86_400_000;

type SessionWithCounts = NonNullable<NonNullable<AnalyticsConversation['participants']>[number]['sessions']>[number] & { mediaCount?: number };

const finite = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** The numbers, from the guest and its conversations' details (pure). */
export function engagementMetrics(guest: Pick<Guest, 'id' | 'attributes'>, conversations: readonly AnalyticsConversation[], now: Date = new Date()): EngagementMetrics {
  const seen = new Set<string>();
  let durationMs = 0;
  let messageCount = 0;
  const responseTimes: number[] = [];
  for (const conversation of conversations) {
    const id = conversation.conversationId ?? '';
    if (seen.has(id)) continue;
    seen.add(id);
    const start = Date.parse(conversation.conversationStart ?? '');
    const end = conversation.conversationEnd ? Date.parse(conversation.conversationEnd) : now.getTime();
    if (!Number.isNaN(start) && !Number.isNaN(end)) durationMs += Math.max(0, end - start);
    for (const participant of conversation.participants ?? []) {
      for (const session of (participant.sessions ?? []) as SessionWithCounts[]) {
        const sessionMetrics = session.metrics ?? [];
        if (participant.purpose === 'customer') {
          const counted = sessionMetrics.filter((metric) => metric.name === 'oMessageCount' && finite(metric.value));
          messageCount += counted.length > 0 ? counted.reduce((sum, metric) => sum + metric.value, 0) : finite(session.mediaCount) ? session.mediaCount : 0;
        }
        if (participant.purpose === 'agent') {
          for (const metric of sessionMetrics) if (metric.name === 'tAgentResponseTime' && finite(metric.value) && metric.value >= 0) responseTimes.push(metric.value);
        }
      }
    }
  }
  const converted = guest.attributes['converted'];
  return {
    guestId: guest.id,
    conversationCount: seen.size,
    durationMinutes: Math.round((durationMs / 60_000) * 100) / 100,
    messageCount: Math.max(0, Math.floor(messageCount)),
    avgResponseTimeMs: responseTimes.length === 0 ? null : Math.round(responseTimes.reduce((a, b) => a + b, 0) / responseTimes.length),
    conversionFlag: converted === true || converted === 'true',
    calculatedAt: now.toISOString(),
  };
}

/** The details of the guest's conversations that started between `from` and `to`. */
export async function guestConversations(
  client: GuestGenesys,
  guestId: string,
  range: { from: Date; to: Date; deadline?: Deadline },
): Promise<AnalyticsConversation[]> {
  const found: AnalyticsConversation[] = [];
  for (let start = range.from.getTime(); start < range.to.getTime(); start += METRICS_WINDOW_DAYS * DAY_MS) {
    const end = Math.min(start + METRICS_WINDOW_DAYS * DAY_MS, range.to.getTime());
    const interval = `${new Date(start).toISOString()}/${new Date(end).toISOString()}`;
    for (let pageNumber = 1; ; pageNumber += 1) {
      if (pageNumber > MAX_PAGES_PER_WINDOW) {
        throw new DependencyError(`Guest ${guestId} has more than ${MAX_PAGES_PER_WINDOW * METRICS_PAGE_SIZE} conversations in ${interval}; the metrics were not computed.`);
      }
      const { body } = await client.call(genesysOperations.queryConversationDetails, {
        ...(range.deadline ? { deadline: range.deadline } : {}),
        body: {
          interval,
          order: 'asc',
          orderBy: 'conversationStart',
          segmentFilters: [{ type: 'and', predicates: [{ type: 'dimension', dimension: 'externalContactId', operator: 'matches', value: guestId }] }],
          paging: { pageSize: METRICS_PAGE_SIZE, pageNumber },
        },
      });
      const page = body.conversations ?? [];
      found.push(...page);
      if (page.length < METRICS_PAGE_SIZE || (body.totalHits !== undefined && pageNumber * METRICS_PAGE_SIZE >= body.totalHits)) break;
    }
  }
  return found;
}

/**
 * Reads the guest (404 for an unknown guest), gathers its conversations of the last `days`
 * days and computes the numbers. Each measurement is also one data point for the metrics
 * report (sessions, duration in seconds, conversions).
 */
export async function measureGuest(
  client: GuestGenesys,
  settings: GuestContactSettings,
  guestId: string,
  options: { days: number; deadline?: Deadline; now?: Date },
): Promise<EngagementMetrics> {
  const now = options.now ?? new Date();
  const { guest } = await readGuest(client, settings, guestId, options.deadline);
  const conversations = await guestConversations(client, guestId, {
    from: new Date(now.getTime() - options.days * DAY_MS),
    to: now,
    ...(options.deadline ? { deadline: options.deadline } : {}),
  });
  const measured = engagementMetrics(guest, conversations, now);
  metrics.addMetric(MetricNames.GuestEngagementSessions, MetricUnit.Count, 1);
  metrics.addMetric(MetricNames.GuestSessionDuration, MetricUnit.Seconds, Math.round(measured.durationMinutes * 60));
  metrics.addMetric(MetricNames.GuestConversions, MetricUnit.Count, measured.conversionFlag ? 1 : 0);
  return measured;
}
