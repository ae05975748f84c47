/**
 * Pre-chat enrichment (docs/api.md section 2, `POST /prechat/enrich`), called by a Genesys
 * Data Action from the Architect inbound message flow once the guest's first message has
 * created the conversation: CRM lookup within its budget, merge, routing by tier, the
 * merged profile PATCHed onto the guest participant, one CRM sync job, and a flat answer
 * the Data Action's output contract maps field by field.
 *
 * The CRM can only make the answer less rich (`enriched: false`), never fail it. A failed
 * PATCH fails the request as prefill's does (404, 503 with `Retry-After`, 502, 504) and
 * enqueues nothing: the flow then takes the Data Action's failure path and routes to its
 * default queue, and a CRM record must not claim an enrichment the conversation never got.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { CrmCustomer, CustomerLookup, CustomerLookupResult } from '#lib/crm';
import { GenesysError, deadlineAfter, genesysOperations, type Deadline, type GenesysClient } from '#lib/genesys';
import { resolveIdentity } from '#lib/identity';
import { enqueueThroughIntake, type JobIntake } from '#lib/jobs';
import { logger, MetricNames, metrics } from '#lib/observability';
import { maskScalar } from '#lib/pii';
import { participantAttributes } from './attributes.ts';
import { PrechatSyncNotQueuedError } from './errors.ts';
import { mergeProfile, queueForTier } from './merge.ts';
import type { PrechatBody } from './schema.ts';
import { prechatSyncJob } from './sync.ts';

/**
 * The most one enrichment may take, from the moment the handler starts: the 5 s CRM
 * budget plus the PATCH (and its retries) in what is left. The guest is waiting for
 * routing meanwhile, and the Data Action (whose `timeoutSeconds` is larger) must get this
 * route's own answer, a 504 problem included, rather than time out on its side.
 */
export const PRECHAT_BUDGET_MS = 12_000;

/** The earlier of two deadlines: the Lambda's remaining time and the route's own budget. */
export function earliest(first: Deadline, second: Deadline): Deadline {
  return { remainingMs: () => Math.min(first.remainingMs(), second.remainingMs()) };
}

/** The deadline of one enrichment: `PRECHAT_BUDGET_MS` from now, or sooner if the invocation ends sooner. */
export function prechatDeadline(invocation: Deadline, now: () => number = Date.now): Deadline {
  return earliest(invocation, deadlineAfter(PRECHAT_BUDGET_MS, now));
}

/** What enrichment needs from the outside world. */
export interface PrechatDependencies extends JobIntake {
  genesys: Pick<GenesysClient, 'call'>;
  lookup: Pick<CustomerLookup, 'lookup'>;
  /** The identity-hash salt (for the sync job's hashes), read from its secret. */
  identitySalt(): Promise<string>;
  routingQueues: Record<string, string> & { standard: string };
  deadline?: Deadline;
  now?: () => Date;
}

/**
 * The 200 body: flat, so a Data Action's output contract and translation map take each
 * field directly (docs/genesys/prechat-data-action.json; a unit test holds them together).
 */
export interface PrechatResult {
  status: 'enriched';
  /** True when the CRM knew the guest and its data went into the profile. */
  enriched: boolean;
  conversationId: string;
  /** The `ROUTING_QUEUES` tier key the queue was taken from (`standard` for an unknown tier). */
  routingQueue: string;
  /** The Genesys queue id for Architect's Transfer to ACD. */
  routingQueueId: string;
  loyaltyTier: string;
  accountStatus: string;
  customerId?: string;
  firstName?: string;
  lastName?: string;
  loyaltyPoints?: number;
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

/** A CRM string as the answer carries it: identifiers masked, like every value written to Genesys. */
const masked = (key: string, value: string | undefined): Record<string, string> =>
  value === undefined ? {} : { [key]: String(maskScalar(key, value).value) };

/** Runs the whole enrichment; see the module comment for the order and the failure rules. */
export async function enrichPrechat(body: PrechatBody, deps: PrechatDependencies): Promise<PrechatResult> {
  const { conversationId, participantId, surveyAnswers } = body;
  const identity = resolveIdentity({ email: surveyAnswers.email, phone: surveyAnswers.phone }, await deps.identitySalt());

  // The one request that carries the raw email or phone: to the CRM that holds it.
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
  const routing = queueForTier(profile.loyaltyTier, deps.routingQueues);

  try {
    await deps.genesys.call(genesysOperations.patchParticipantAttributes, {
      params: { conversationId, participantId },
      body: { attributes: participantAttributes(profile, enriched, routing) },
      ...(deps.deadline ? { deadline: deps.deadline } : {}),
    });
  } catch (error) {
    if (error instanceof GenesysError) Object.assign(error.extensions, { conversationId, participantId });
    throw error;
  }

  const job = prechatSyncJob({ profile, enriched, identity, conversationId, participantId, routing, at: deps.now?.() ?? new Date() });
  try {
    await enqueueThroughIntake(deps, job);
  } catch (error) {
    throw new PrechatSyncNotQueuedError(conversationId, routing.routingQueueId, job.jobId, error);
  }

  return {
    status: 'enriched',
    enriched,
    conversationId,
    routingQueue: routing.routingQueue,
    routingQueueId: routing.routingQueueId,
    loyaltyTier: profile.loyaltyTier,
    accountStatus: profile.accountStatus,
    ...masked('customerId', profile.customerId),
    ...masked('firstName', profile.firstName),
    ...masked('lastName', profile.lastName),
    ...(profile.loyaltyPoints !== undefined ? { loyaltyPoints: profile.loyaltyPoints } : {}),
  };
}
