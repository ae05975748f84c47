/**
 * One Genesys conversation event, end to end (docs/api.md section 3): parse, dedupe, order,
 * then link the conversation to its prepared session, re-assert the prepared attributes
 * on the participant with at most one PATCH, and queue the CRM sync. Dependencies come in
 * from the handler, so this runs the same in tests and in Lambda.
 *
 * Errors: a delivery the function cannot read is logged and counted, never thrown (a
 * retry would not make it readable). A failure it cannot recover from within the
 * invocation (Genesys, the state table, the queue) is thrown, so EventBridge retries the
 * event and, after its retry policy, hands it to the rule's dead-letter queue.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { GenesysError, genesysOperations, type Deadline, type GenesysClient } from '#lib/genesys';
import type { CrmSyncJob } from '#lib/jobs';
import { logger, MetricNames, metrics } from '#lib/observability';
import type { PreparedSession, PreparedSessions } from '#lib/state';
import { parseConversationEvent, type ConversationEvent } from './envelope.ts';
import type { EventLedger } from './ledger.ts';
import { SESSION_REF_ATTRIBUTE, attributesToReassert, buildEndJob, buildLinkJob } from './plan.ts';

/** The prepared sessions as the events function uses them: look-ups, the conversation link, its end. */
export type SessionDirectory = Pick<PreparedSessions, 'byRef' | 'get' | 'byConversation' | 'link' | 'end'>;

/** What handling an event needs from the outside world. */
export interface EventDependencies {
  ledger: EventLedger;
  sessions: SessionDirectory;
  genesys: Pick<GenesysClient, 'call'>;
  /** Queues the jobs within `deadline` (SQS, else the outbox); throws when a job is in neither. */
  enqueue(jobs: CrmSyncJob[], deadline?: Deadline): Promise<{ pending: readonly string[] }>;
  /** Time the Genesys calls may take. */
  deadline?: Deadline;
  /** Time the enqueue may take: what the invocation has left, less a moment to answer. */
  enqueueDeadline?: Deadline;
  now?: () => Date;
}

/** What became of one delivery (the handler's answer; EventBridge ignores it, tests read it). */
export interface EventResult {
  outcome:
    | 'malformed'
    | 'ignored'
    | 'duplicate'
    | 'stale'
    | 'no-session'
    | 'unknown-session'
    | 'applied'
    | 'ended'
    | 'end-noted'
    /** Genesys no longer knows the conversation (404): nothing to re-assert, and a retry would not change that. */
    | 'conversation-gone';
  eventId?: string;
  /** Keys of the prepared attributes PATCHed onto the participant (never values). */
  reasserted?: string[];
  jobIds?: string[];
}

/** Handles one EventBridge delivery; throws only what EventBridge should retry. */
export async function handleConversationEvent(raw: unknown, deps: EventDependencies): Promise<EventResult> {
  metrics.addMetric(MetricNames.EventsReceived, MetricUnit.Count, 1);
  const parsed = parseConversationEvent(raw);
  if (parsed.kind === 'malformed') {
    logger.warn('Malformed conversation event skipped', { reason: parsed.reason, eventId: parsed.id ?? null });
    metrics.addMetric(MetricNames.EventsMalformed, MetricUnit.Count, 1);
    return { outcome: 'malformed', ...(parsed.id ? { eventId: parsed.id } : {}) };
  }
  if (parsed.kind === 'ignored') {
    logger.info('Conversation event of another topic ignored', { detailType: parsed.detailType });
    metrics.addMetric(MetricNames.EventsIgnored, MetricUnit.Count, 1);
    return { outcome: 'ignored' };
  }
  const event = parsed.event;
  logger.appendKeys({ eventId: event.id, topic: event.topic, conversationId: event.conversationId });
  try {
    if (await deps.ledger.seen(event)) {
      metrics.addMetric(MetricNames.EventsDuplicate, MetricUnit.Count, 1);
      logger.info('Conversation event already processed');
      return { outcome: 'duplicate', eventId: event.id };
    }
    let result: EventResult;
    try {
      result = await dispatch(event, deps);
    } catch (error) {
      if (!(error instanceof GenesysError && error.upstreamStatus === 404)) throw error;
      metrics.addMetric(MetricNames.EventsConversationGone, MetricUnit.Count, 1);
      logger.warn('Conversation no longer exists in Genesys; event skipped', { operation: error.operation });
      result = { outcome: 'conversation-gone' };
    }
    await deps.ledger.remember(event);
    logger.info('Conversation event processed', { outcome: result.outcome, reasserted: result.reasserted ?? [], jobIds: result.jobIds ?? [] });
    return { ...result, eventId: event.id };
  } finally {
    logger.removeKeys(['eventId', 'topic', 'conversationId']);
  }
}

async function dispatch(event: ConversationEvent, deps: EventDependencies): Promise<EventResult> {
  if (event.topic === 'customer.end') return conversationEnded(event, deps);
  if (event.topic === 'attributes') return applyAttributes(event, event.participantId as string, event.attributes ?? {}, deps);
  // customer.start: read the participant's attributes, so nothing depends on Genesys sending
  // an `attributes` event for the first message's custom attributes.
  const participantId = event.participantId as string;
  const { body } = await deps.genesys.call(genesysOperations.getConversation, {
    params: { conversationId: event.conversationId },
    ...(deps.deadline ? { deadline: deps.deadline } : {}),
  });
  const participant = body.participants.find((candidate) => candidate.id === participantId);
  return applyAttributes(event, participantId, participant?.attributes ?? {}, deps);
}

/** Which session the conversation belongs to: the one linked to it, else the one `gsRef` names. */
async function sessionFor(
  conversationId: string,
  attributes: Record<string, string>,
  sessions: SessionDirectory,
): Promise<{ session?: PreparedSession; linked: boolean; unknownRef: boolean }> {
  // The first link wins: the browser cannot move a conversation to another session.
  const linked = await sessions.byConversation(conversationId);
  if (linked) return { session: linked, linked: true, unknownRef: false };
  const gsRef = attributes[SESSION_REF_ATTRIBUTE];
  if (gsRef === undefined) return { linked: false, unknownRef: false };
  const session = await sessions.byRef(gsRef);
  return session ? { session, linked: false, unknownRef: false } : { linked: false, unknownRef: true };
}

async function applyAttributes(
  event: ConversationEvent,
  participantId: string,
  attributes: Record<string, string>,
  deps: EventDependencies,
): Promise<EventResult> {
  const appliedAt = await deps.ledger.appliedAt(event.conversationId);
  if (appliedAt !== undefined && event.eventTime < appliedAt) {
    // A newer state of this conversation was applied already: this one must not undo it.
    metrics.addMetric(MetricNames.EventsStale, MetricUnit.Count, 1);
    return { outcome: 'stale' };
  }
  const { session, linked, unknownRef } = await sessionFor(event.conversationId, attributes, deps.sessions);
  if (!session) {
    if (unknownRef) {
      // Expired, or guessed: nothing changes, and it is counted.
      metrics.addMetric(MetricNames.EventsUnknownSession, MetricUnit.Count, 1);
      logger.warn('Conversation names no prepared session (expired or guessed reference)');
      return { outcome: 'unknown-session' };
    }
    return { outcome: 'no-session' };
  }

  const reassert = attributesToReassert(session.attributes, attributes);
  const reasserted = Object.keys(reassert).sort();
  if (reasserted.length > 0) {
    await deps.genesys.call(genesysOperations.patchParticipantAttributes, {
      params: { conversationId: event.conversationId, participantId },
      body: { attributes: reassert },
      ...(deps.deadline ? { deadline: deps.deadline } : {}),
    });
    metrics.addMetric(MetricNames.AttributesReasserted, MetricUnit.Count, 1);
  }

  const now = deps.now?.() ?? new Date();
  const jobIds: string[] = [];
  const facts = { sessionId: session.sessionId, conversationId: event.conversationId, participantId, eventTime: event.eventTime };
  let current: PreparedSession | undefined = session;
  if (!linked) {
    // Queued before the link is recorded: a retry after a failure finds no link and queues
    // the same job again (same id), so the CRM never misses it.
    const job = buildLinkJob(facts, now);
    await deps.enqueue([job], deps.enqueueDeadline);
    jobIds.push(job.jobId);
    current = await deps.sessions.link(session.sessionId, { conversationId: event.conversationId, participantId }, new Date(event.eventTime).toISOString());
  }
  if (current?.endedAt && current.conversationId === event.conversationId) {
    // The conversation ended before its link was known (events out of order): its end counts
    // now. Same job as the end event would have queued, so a repeat changes nothing.
    const job = buildEndJob({ ...facts, eventTime: Date.parse(current.endedAt) }, now);
    await deps.enqueue([job], deps.enqueueDeadline);
    jobIds.push(job.jobId);
  }
  await deps.ledger.markApplied(event.conversationId, event.eventTime);
  return { outcome: 'applied', reasserted, jobIds };
}

async function conversationEnded(event: ConversationEvent, deps: EventDependencies): Promise<EventResult> {
  const endedAt = new Date(event.eventTime).toISOString();
  const linked = await deps.sessions.byConversation(event.conversationId);
  if (!linked) {
    // Not linked (yet): the end is remembered, so a link made by a late event still reports it.
    await deps.sessions.end(event.conversationId, endedAt);
    return { outcome: 'end-noted' };
  }
  const job = buildEndJob(
    {
      sessionId: linked.sessionId,
      conversationId: event.conversationId,
      eventTime: event.eventTime,
      ...(event.interactingDurationMs === undefined ? {} : { interactingDurationMs: event.interactingDurationMs }),
    },
    deps.now?.() ?? new Date(),
  );
  // Queued before the end is recorded: a retry finds the same state and queues the same job.
  await deps.enqueue([job], deps.enqueueDeadline);
  await deps.sessions.end(event.conversationId, endedAt);
  return { outcome: 'ended', jobIds: [job.jobId] };
}
