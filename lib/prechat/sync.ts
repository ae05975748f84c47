/**
 * The CRM sync job of a pre-chat (contract section 3, source `prechat`): the chat's
 * session context keyed by the CRM customer id, else by the conversation id. Pure.
 */
import { createHash } from 'node:crypto';
import type { IdentityHashes } from '#lib/identity';
import { buildJob, deterministicJobId, type CrmRecord, type CrmSyncJob } from '#lib/jobs';
import { toFlatAttributes } from './attributes.ts';
import type { EnrichedProfile } from './merge.ts';

/**
 * A stable reference to the Web Messaging session that never reveals its token: the
 * first 32 hex characters of its SHA-256.
 */
export function sessionReference(sessionToken: string): string {
  return createHash('sha256').update(sessionToken).digest('hex').slice(0, 32);
}

/** What the job describes. */
export interface PrechatJobInput {
  profile: EnrichedProfile;
  enriched: boolean;
  identity: IdentityHashes;
  conversationId: string;
  routingQueue: string;
  sessionToken: string;
  at: Date;
}

/** One job per created conversation; the id follows from the conversation and the record. */
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
      routingQueue: input.routingQueue,
      sessionRef: sessionReference(input.sessionToken),
    }),
  };
  const record: CrmRecord = { ...content, lastInteraction: stamp, sourceUpdatedAt: stamp };
  return buildJob('prechat', deterministicJobId('prechat', content), record, input.at);
}
