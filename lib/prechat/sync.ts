/**
 * The CRM sync job of a pre-chat (docs/api.md section 5, source `prechat`): the chat's
 * context keyed by the CRM customer id, else by the conversation id. Pure.
 */
import type { IdentityHashes } from '#lib/identity';
import { buildJob, deterministicJobId, type CrmRecord, type CrmSyncJob } from '#lib/jobs';
import { toFlatAttributes, type RoutingChoice } from './attributes.ts';
import type { EnrichedProfile } from './merge.ts';

/** What the job describes. */
export interface PrechatJobInput {
  profile: EnrichedProfile;
  enriched: boolean;
  identity: IdentityHashes;
  conversationId: string;
  participantId: string;
  routing: RoutingChoice;
  at: Date;
}

/**
 * One job per enrichment. Its id follows from the record's content (not the time), so a
 * Data Action retried by the flow for the same conversation yields the same job id.
 */
export function prechatSyncJob(input: PrechatJobInput): CrmSyncJob {
  const { profile, identity } = input;
  const stamp = input.at.toISOString();
  const content = {
    externalId: profile.customerId ?? input.conversationId,
    ...(identity.emailHash ? { emailHash: identity.emailHash } : {}),
    ...(identity.phoneHash ? { phoneHash: identity.phoneHash } : {}),
    attributes: toFlatAttributes({
      loyaltyTier: profile.loyaltyTier,
      accountStatus: profile.accountStatus,
      preChatSubject: profile.subject,
      preChatPriority: profile.priority,
      enriched: input.enriched,
    }),
    channelContext: toFlatAttributes({
      channel: 'webmessaging',
      conversationId: input.conversationId,
      participantId: input.participantId,
      routingQueue: input.routing.routingQueue,
      routingQueueId: input.routing.routingQueueId,
    }),
  };
  const record: CrmRecord = { ...content, lastInteraction: stamp, sourceUpdatedAt: stamp };
  return buildJob('prechat', deterministicJobId('prechat', content), record, input.at);
}
