/**
 * Pre-chat enrichment (contract section 2, `POST /prechat/enrich`): CRM lookup within its
 * budget, merge, routing by tier, conversation creation, contact update, CRM sync job.
 * The CRM can only make the answer less rich (`enriched: false`), never fail it.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { CrmCustomer, CustomerLookup, CustomerLookupResult } from '#lib/crm';
import { DependencyError } from '#lib/errors';
import { GenesysError, type Deadline, type GenesysClient } from '#lib/genesys';
import { resolveIdentity } from '#lib/identity';
import { EnqueueError, enqueueJobs, type CrmSyncJob, type EnqueueOptions, type EnqueueResult, type Outbox } from '#lib/jobs';
import { logger, metrics } from '#lib/lambda';
import { MetricNames } from '#lib/metrics';
import { contactAttributes, routingAttributes } from './attributes.ts';
import { mergeProfile, queueForTier } from './merge.ts';
import type { PrechatBody } from './schema.ts';
import { prechatSyncJob } from './sync.ts';

/** The channel name conversations are created with. */
export const WEB_MESSAGING_CHANNEL = 'webmessaging';

/** What enrichment needs from the outside world. */
export interface PrechatDependencies {
  genesys: Pick<GenesysClient, 'createConversation' | 'updateContact'>;
  lookup: Pick<CustomerLookup, 'lookup'>;
  /** The identity-hash salt (for the sync job's hashes). */
  salt: string;
  routingQueues: Record<string, string> & { standard: string };
  queueUrl: string;
  deadline?: Deadline;
  enqueue?: (jobs: CrmSyncJob[], options: EnqueueOptions) => Promise<EnqueueResult>;
  /** Where jobs SQS did not take in time wait for the sweep. */
  outbox?: Outbox;
  /** Time the enqueue may take (SQS, then the outbox): what the invocation has left, less a moment to answer. */
  enqueueDeadline?: Deadline;
  now?: () => Date;
}

/** The 200 body. */
export interface PrechatResult {
  status: 'enriched';
  /** True when the CRM knew the guest and its data went into the profile. */
  enriched: boolean;
  conversationId: string;
  /** The queue id the conversation was routed to. */
  routingQueue: string;
}

/** Counts the outcome, with the reason as a dimension when the CRM did not help. */
function countOutcome(result: CustomerLookupResult): void {
  if (result.outcome === 'found') {
    metrics.addMetric(MetricNames.PrechatEnriched, MetricUnit.Count, 1);
    return;
  }
  const single = metrics.singleMetric();
  single.addDimension('reason', result.outcome === 'not_found' ? 'not_found' : result.reason);
  single.addMetric(MetricNames.PrechatUnenriched, MetricUnit.Count, 1);
}

/** Runs the whole enrichment; see the module comment for the order and the failure rules. */
export async function enrichPrechat(body: PrechatBody, deps: PrechatDependencies): Promise<PrechatResult> {
  const { surveyAnswers, sessionToken } = body;
  const call = deps.deadline ? { deadline: deps.deadline } : {};
  const identity = resolveIdentity({ email: surveyAnswers.email, phone: surveyAnswers.phone }, deps.salt);

  const lookup = await deps.lookup.lookup(
    { ...(surveyAnswers.email ? { email: surveyAnswers.email } : {}), ...(surveyAnswers.phone ? { phone: surveyAnswers.phone } : {}) },
    deps.deadline ? { budgetMs: deps.deadline.remainingMs() } : {},
  );
  countOutcome(lookup);
  if (lookup.outcome === 'unavailable') {
    logger.warn('Pre-chat continues unenriched: CRM lookup unavailable', { reason: lookup.reason, detail: lookup.detail });
  }
  const customer: CrmCustomer | undefined = lookup.outcome === 'found' ? lookup.customer : undefined;
  const enriched = customer !== undefined;
  const profile = mergeProfile(surveyAnswers, customer);
  const routingQueue = queueForTier(profile.loyaltyTier, deps.routingQueues);

  const created = await deps.genesys.createConversation(
    { channel: WEB_MESSAGING_CHANNEL, routing: { queueId: routingQueue }, contact: { attributes: routingAttributes(profile) } },
    call,
  );
  const conversationId = created.body.id;

  try {
    await deps.genesys.updateContact(conversationId, contactAttributes(profile, enriched, identity.resolutionMethod), call);
  } catch (error) {
    const upstream = error instanceof GenesysError ? error : undefined;
    throw new DependencyError(
      `Conversation ${conversationId} was created, but its contact attributes could not be updated` +
        `${upstream ? ` (${upstream.message})` : ''}. The conversation is routed without the enriched profile.`,
      502,
      {
        cause: error,
        extensions: {
          conversationId,
          routingQueue,
          contactUpdated: false,
          operation: 'updateContact',
          ...(upstream?.upstreamStatus !== undefined ? { upstreamStatus: upstream.upstreamStatus } : {}),
        },
      },
    );
  }

  const job = prechatSyncJob({
    profile,
    enriched,
    identity,
    conversationId,
    routingQueue,
    sessionToken,
    at: deps.now?.() ?? new Date(),
  });
  try {
    await (deps.enqueue ?? enqueueJobs)([job], {
      queueUrl: deps.queueUrl,
      ...(deps.outbox ? { outbox: deps.outbox } : {}),
      ...(deps.enqueueDeadline ? { budgetMs: deps.enqueueDeadline.remainingMs() } : {}),
    });
  } catch (error) {
    const failure = error instanceof EnqueueError ? error : new DependencyError('The CRM sync job could not be queued.', 502, { cause: error });
    Object.assign(failure.extensions, { conversationId, routingQueue, contactUpdated: true, syncJobId: job.jobId });
    throw failure;
  }
  metrics.addMetric(MetricNames.JobsEnqueued, MetricUnit.Count, 1);

  return { status: 'enriched', enriched, conversationId, routingQueue };
}
