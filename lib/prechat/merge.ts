/**
 * The enriched profile (docs/api.md section 2, pre-chat merge): the CRM wins for what it
 * owns (name, tier, status, id, points), the survey wins for what belongs to this chat
 * (subject, priority), and defaults fill the gaps. Pure.
 */
import type { CrmCustomer } from '#lib/crm';
import type { RoutingChoice } from './attributes.ts';
import type { SurveyAnswers } from './schema.ts';

/** Defaults when neither side has a value. */
export const PROFILE_DEFAULTS = {
  loyaltyTier: 'standard',
  accountStatus: 'active',
  subject: 'General Inquiry',
  priority: 'normal',
} as const;

/** The merged profile. Optional fields are absent when the CRM did not know them. */
export interface EnrichedProfile {
  customerId?: string;
  firstName?: string;
  lastName?: string;
  /** Lower-cased, so it matches the `ROUTING_QUEUES` keys. */
  loyaltyTier: string;
  accountStatus: string;
  loyaltyPoints?: number;
  subject: string;
  priority: string;
}

const present = (value: string | undefined): string | undefined => {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
};

/**
 * Merges the survey with the CRM customer (undefined when not found or unavailable).
 * Empty or blank values count as missing on both sides.
 */
export function mergeProfile(survey: SurveyAnswers, customer: CrmCustomer | undefined): EnrichedProfile {
  const tier = present(customer?.loyaltyTier);
  const customerId = present(customer?.id);
  const firstName = present(customer?.firstName);
  const lastName = present(customer?.lastName);
  const points = customer?.loyaltyPoints;
  return {
    ...(customerId ? { customerId } : {}),
    ...(firstName ? { firstName } : {}),
    ...(lastName ? { lastName } : {}),
    loyaltyTier: tier ? tier.toLowerCase() : PROFILE_DEFAULTS.loyaltyTier,
    accountStatus: present(customer?.accountStatus) ?? PROFILE_DEFAULTS.accountStatus,
    ...(typeof points === 'number' && Number.isFinite(points) ? { loyaltyPoints: points } : {}),
    subject: present(survey.subject) ?? PROFILE_DEFAULTS.subject,
    priority: present(survey.priority) ?? PROFILE_DEFAULTS.priority,
  };
}

/**
 * The routing queue of a tier: the `ROUTING_QUEUES` key used and its queue id. An unknown
 * tier (or one mapped to an empty id) goes to the `standard` queue.
 */
export function queueForTier(tier: string, queues: Record<string, string> & { standard: string }): RoutingChoice {
  const id = Object.hasOwn(queues, tier) ? queues[tier] : undefined;
  return id ? { routingQueue: tier, routingQueueId: id } : { routingQueue: 'standard', routingQueueId: queues.standard };
}
