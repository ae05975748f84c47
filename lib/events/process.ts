/**
 * One Genesys conversation event, end to end (contract section 3): parse, dedupe, order,
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
import { genesysOperations, type Deadline, type GenesysClient } from '#lib/genesys';
import type { CrmSyncJob } from '#lib/jobs';
import { logger, metrics } from '#lib/lambda';
import { MetricNames } from '#lib/metrics';
import type { PreparedSession } from '#lib/state';
import { parseConversationEvent, type ConversationEvent } from './envelope.ts';
import type { ConversationRecord, EventLedger } from './ledger.ts';
import { SESSION_REF_ATTRIBUTE, attributesToReassert, buildEndJob, buildLinkJob } from './plan.ts';

/** The prepared sessions as the events function uses them. */
export interface SessionDirectory {
  byRef(gsRef: string): Promise<PreparedSession | undefined>;
  get(sessionId: string): Promise<PreparedSession | undefined>;
  /** Records on the session which conversation and participant it became. */
  link(sessionId: string, conversationId: string, participantId: string): Promise<void>;
  /** Records on the session that its conversation ended. */
  markEnded(sessionId: string, conversationId: string, endedAt: string): Promise<void>;
}

/** What handling an event needs from the outside world. */
export interface EventDependencies {
  ledger: EventLedger;
  sessions: SessionDirectory;
  genesys: Pick<GenesysClient, 'call'>;
  /** Queues the jobs (SQS, else the outbox); throws when a job is in neither. */
  enqueue(jobs: CrmSyncJob[]): Promise<{ pending: readonly string[] }>;
  deadline?: Deadline;
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
    | 'end-noted';
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
    const result = await dispatch(event, deps);
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

/** Which session the attributes name: the linked one, else the one `gsRef` names. */
async function sessionFor(
  record: ConversationRecord,
  attributes: Record<string, string>,
  sessions: SessionDirectory,
): Promise<{ session?: PreparedSession; unknownRef: boolean }> {
  // The first link wins: the browser cannot move a conversation to another session.
  if (record.sessionId) return { session: await sessions.get(record.sessionId), unknownRef: false };
  const gsRef = attributes[SESSION_REF_ATTRIBUTE];
  if (gsRef === undefined) return { unknownRef: false };
  const session = await sessions.byRef(gsRef);
  return session ? { session, unknownRef: false } : { unknownRef: true };
}

async function applyAttributes(
  event: ConversationEvent,
  participantId: string,
  attributes: Record<string, string>,
  deps: EventDependencies,
): Promise<EventResult> {
  const record = await deps.ledger.conversation(event.conversationId);
  if (record.attributesAt !== undefined && event.eventTime < record.attributesAt) {
    // A newer state of this conversation was applied already: this one must not undo it.
    metrics.addMetric(MetricNames.EventsStale, MetricUnit.Count, 1);
    return { outcome: 'stale' };
  }
  const { session, unknownRef } = await sessionFor(record, attributes, deps.sessions);
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
  const jobs: CrmSyncJob[] = [];
  const newLink = record.sessionId === undefined;
  const facts = { sessionId: session.sessionId, conversationId: event.conversationId, participantId, eventTime: event.eventTime };
  if (newLink) {
    jobs.push(buildLinkJob(facts, now));
    // The conversation ended before its link was known (events out of order): its end counts now.
    if (record.endedAt !== undefined) jobs.push(buildEndJob({ ...facts, eventTime: record.endedAt }, now));
  }
  // Queue first, then write: a retry after a failed write queues the same jobs (same ids) again.
  if (jobs.length > 0) await deps.enqueue(jobs);
  if (newLink) await deps.sessions.link(session.sessionId, event.conversationId, participantId);
  await deps.ledger.update(event.conversationId, (current) => ({
    ...current,
    sessionId: current.sessionId ?? session.sessionId,
    participantId: current.participantId ?? participantId,
    attributesAt: Math.max(current.attributesAt ?? 0, event.eventTime),
  }));
  return { outcome: 'applied', reasserted, jobIds: jobs.map((job) => job.jobId) };
}

async function conversationEnded(event: ConversationEvent, deps: EventDependencies): Promise<EventResult> {
  const record = await deps.ledger.conversation(event.conversationId);
  if (!record.sessionId) {
    // Not linked (yet): remember the end, so a link made by a late event still reports it.
    await deps.ledger.update(event.conversationId, (current) => ({ ...current, endedAt: current.endedAt ?? event.eventTime }));
    return { outcome: 'end-noted' };
  }
  const job = buildEndJob(
    {
      sessionId: record.sessionId,
      conversationId: event.conversationId,
      eventTime: event.eventTime,
      ...(event.interactingDurationMs === undefined ? {} : { interactingDurationMs: event.interactingDurationMs }),
    },
    deps.now?.() ?? new Date(),
  );
  await deps.enqueue([job]);
  await deps.sessions.markEnded(record.sessionId, event.conversationId, new Date(event.eventTime).toISOString());
  await deps.ledger.update(event.conversationId, (current) => ({ ...current, endedAt: current.endedAt ?? event.eventTime }));
  return { outcome: 'ended', jobIds: [job.jobId] };
}
