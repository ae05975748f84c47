/**
 * `POST /sessions/{sessionId}/prefill` end to end (docs/api.md section 2): validate, process,
 * store the prepared session, PATCH the guest participant when the session is already
 * linked to a live conversation, and enqueue the CRM sync job. What it learns on the way is
 * noted in the attempt's facts, which the HTTP stack's audit middleware writes whatever the
 * outcome (`prefillAudit`). Dependencies come in from the handler, so this runs the same in
 * tests and in Lambda.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { AppError } from '#lib/errors';
import type { Deadline, GenesysClient } from '#lib/genesys';
import { genesysOperations } from '#lib/genesys';
import type { CrmSyncJob } from '#lib/jobs';
import { logger, MetricNames, metrics } from '#lib/observability';
import { SessionStoreError, liveConversation, type PreparedSessions } from '#lib/state';
import { requireUuidParam } from '#lib/validation';
import type { PrefillAttempt } from './audit.ts';
import { SyncNotQueuedError } from './errors.ts';
import { buildPrefillJob } from './job.ts';
import { parseJsonBody } from './parse.ts';
import { hasIdentityValues, messengerAttributes, processPrefill } from './process.ts';
import { validatePrefillBody } from './schema.ts';

/** What the prefill flow needs from the outside world. */
export interface PrefillDependencies {
  /** Where prepared sessions are kept (the state table). */
  sessions: Pick<PreparedSessions, 'prepare'>;
  /** How long a prepared session is kept (`PREFILL_TTL_SECONDS`). */
  ttlSeconds: number;
  /** The Genesys client; prefill only ever PATCHes a participant's attributes. */
  genesys: Pick<GenesysClient, 'call'>;
  /** The identity salt (read only when the request carries an email or phone). */
  identitySalt(): Promise<string>;
  /**
   * Queues the jobs within `deadline` (SQS with its own retries, else the outbox); resolves
   * with the ids kept in the outbox, throws when a job is in neither.
   */
  enqueue(jobs: CrmSyncJob[], deadline?: Deadline): Promise<{ pending: readonly string[] }>;
  /** Time the Genesys call may take. */
  deadline?: Deadline;
  /** Time the enqueue may take: what the invocation has left, less a moment to answer. */
  enqueueDeadline?: Deadline;
  now?: () => Date;
}

/** The parts of the HTTP request the flow reads. */
export interface PrefillRequest {
  pathParameters: Record<string, string | undefined>;
  headers: Record<string, string | undefined>;
  rawBody: Buffer;
}

/** The 200 body (docs/api.md section 2). */
export interface PrefillResult {
  sessionId: string;
  /** The caller's attributes after processing (consent merged), `gsRef` not counted. */
  attributeCount: number;
  /** UTF-8 bytes of the processed `{attributes}`, `gsRef` not counted. */
  byteSize: number;
  maskedKeys: string[];
  syncJobId: string;
  /**
   * `conversation`: the session was linked to a live conversation and its guest participant
   * now holds the attributes. `pending`: no live conversation yet; the page passes
   * `customAttributes` to `Database.set` and the conversation gets them with the first message.
   */
  applied: 'pending' | 'conversation';
  /**
   * `queued`: the job is on the CRM sync queue. `pending`: SQS did not take it in time; it
   * waits in the outbox and the sweep hands it to SQS within about a minute (not lost).
   */
  sync: 'queued' | 'pending';
  /** Exactly what the page passes to `Database.set`: every value a string, plus `gsRef`. */
  customAttributes: Record<string, string>;
}

/**
 * Runs one prefill attempt. Errors are thrown for the HTTP stack to answer (problem
 * details); what the attempt learnt before failing is in `attempt`, for its audit line.
 */
export async function prefillSession(
  request: PrefillRequest,
  deps: PrefillDependencies,
  attempt: Partial<PrefillAttempt> = {},
): Promise<PrefillResult> {
  // The change's version is the moment the request arrived, before any upstream call: two
  // concurrent prefills of one session end in the CRM in the order Genesys saw them.
  const arrivedAt = deps.now?.() ?? new Date();
  attempt.sessionId = requireUuidParam(request.pathParameters, 'sessionId');
  const body = validatePrefillBody(await parseJsonBody(request.rawBody, request.headers));
  attempt.attributeCount = new Set([...Object.keys(body.attributes), ...Object.keys(body.consent ?? {})]).size;

  const salt = hasIdentityValues(body) ? await deps.identitySalt() : undefined;
  const processed = processPrefill(body, salt);
  attempt.byteSize = processed.byteSize;

  // Stored before anything is sent: a second prefill of the session replaces the
  // attributes and keeps the reference (and the conversation link, if any).
  const customAttributes = messengerAttributes(processed.attributes);
  const sessionId = attempt.sessionId;
  const session = await deps.sessions
    .prepare(sessionId, customAttributes, arrivedAt.toISOString(), deps.ttlSeconds)
    .catch((cause: unknown) => {
      throw cause instanceof AppError ? cause : new SessionStoreError(sessionId, cause);
    });
  const messenger = { ...customAttributes, gsRef: session.gsRef };

  // Linked to a live conversation: the guest participant gets them now. A failed PATCH
  // throws here, before anything is queued (the prepared session stays stored: it is
  // what the events function re-asserts, and a retry replaces it).
  const live = liveConversation(session);
  if (live) {
    await deps.genesys.call(genesysOperations.patchParticipantAttributes, {
      params: live,
      body: { attributes: messenger },
      ...(deps.deadline ? { deadline: deps.deadline } : {}),
    });
  }
  const applied: PrefillResult['applied'] = live ? 'conversation' : 'pending';
  attempt.applied = applied;

  const job = buildPrefillJob(sessionId, processed, arrivedAt);
  attempt.syncJobId = job.jobId;
  let sync: PrefillResult['sync'];
  try {
    sync = (await deps.enqueue([job], deps.enqueueDeadline)).pending.length > 0 ? 'pending' : 'queued';
  } catch (cause) {
    // The job holds hashes and masked values only; logged whole so it can be replayed.
    logger.error('CRM sync job not queued after the attributes were prepared; replay it', { job, error: cause as Error });
    throw new SyncNotQueuedError(sessionId, job.jobId, applied, { cause });
  }

  metrics.addMetric(MetricNames.PrefillSuccesses, MetricUnit.Count, 1);
  metrics.addMetric(MetricNames.PrefillPayloadBytes, MetricUnit.Bytes, processed.byteSize);
  metrics.addMetric(MetricNames.JobsEnqueued, MetricUnit.Count, 1);
  return {
    sessionId,
    attributeCount: Object.keys(processed.attributes).length,
    byteSize: processed.byteSize,
    maskedKeys: processed.maskedKeys,
    syncJobId: job.jobId,
    applied,
    sync,
    customAttributes: messenger,
  };
}
