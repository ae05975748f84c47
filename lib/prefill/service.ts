/**
 * `POST /sessions/{sessionId}/prefill` end to end (docs/api.md section 2): validate, process,
 * store the prepared session, PATCH the guest participant when the session is already
 * linked to a live conversation, enqueue the CRM sync job, and audit and measure every
 * attempt, whatever its outcome. Dependencies come in from the handler, so this runs the
 * same in tests and in Lambda.
 */
import { randomUUID } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { AppError, PayloadTooLargeError, ValidationError } from '#lib/errors';
import type { Deadline, GenesysClient } from '#lib/genesys';
import { GenesysError, genesysOperations } from '#lib/genesys';
import type { CrmSyncJob } from '#lib/jobs';
import { toProblem } from '#lib/lambda';
import { logger, MetricNames, metrics } from '#lib/observability';
import { SessionStoreError, liveConversation, type PreparedSessions } from '#lib/state';
import { requireUuidParam } from '#lib/validation';
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
   * Queues the jobs (SQS with its own retries, else the outbox); resolves with the ids kept
   * in the outbox, throws when a job is in neither.
   */
  enqueue(jobs: CrmSyncJob[]): Promise<{ pending: readonly string[] }>;
  deadline?: Deadline;
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

/** Why an attempt failed, as the `reason` dimension of `PrefillFailures` and in the audit. */
export type PrefillFailureReason = 'validation' | 'too_large' | 'not_found' | 'throttled' | 'upstream' | 'state' | 'enqueue' | 'internal';

/** Maps a failure to its reason; anything unexpected is `internal`. */
export function prefillFailureReason(error: unknown): PrefillFailureReason {
  if (error instanceof SyncNotQueuedError) return 'enqueue';
  if (error instanceof SessionStoreError) return 'state';
  if (error instanceof PayloadTooLargeError) return 'too_large';
  if (error instanceof ValidationError) return 'validation';
  if (error instanceof GenesysError) {
    if (error.status === 404) return 'not_found';
    if (error.status === 503) return 'throttled';
    return 'upstream';
  }
  // middy's JSON parser errors (415 / malformed JSON) carry a 4xx statusCode.
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  if (!(error instanceof AppError) && typeof status === 'number' && status >= 400 && status < 500) return 'validation';
  if (error instanceof AppError && error.type === 'token-endpoint-failure') return 'upstream';
  return 'internal';
}

interface Attempt {
  sessionId?: string;
  attributeCount?: number;
  byteSize?: number;
  syncJobId?: string;
  applied?: PrefillResult['applied'];
}

/** One structured audit line per attempt: never an attribute value, only counts and ids. */
function audit(attempt: Attempt, outcome: { status: number; reason?: PrefillFailureReason; problemType?: string }, latencyMs: number, requestBytes: number): void {
  logger.info('audit', {
    auditId: randomUUID(),
    type: outcome.reason === undefined ? 'prefill_success' : 'prefill_failure',
    sessionId: attempt.sessionId ?? null,
    attributeCount: attempt.attributeCount ?? 0,
    byteSize: attempt.byteSize ?? null,
    requestBytes,
    latencyMs: Math.round(latencyMs * 100) / 100,
    status: outcome.status,
    ...(outcome.reason ? { reason: outcome.reason, problemType: outcome.problemType } : {}),
    ...(attempt.syncJobId ? { syncJobId: attempt.syncJobId } : {}),
    ...(attempt.applied ? { applied: attempt.applied } : {}),
  });
}

/**
 * Runs one prefill attempt. Errors are rethrown for the HTTP stack to answer (problem
 * details); the audit line and the metrics are written either way. `resolve` supplies the
 * dependencies inside the attempt, so even a misconfigured function audits its refusals.
 */
export async function prefillSession(request: PrefillRequest, resolve: () => PrefillDependencies): Promise<PrefillResult> {
  const started = performance.now();
  // The change's version is the moment the request arrived, before any upstream call: two
  // concurrent prefills of one session end in the CRM in the order Genesys saw them.
  let arrivedAt = new Date();
  const attempt: Attempt = {};
  metrics.addMetric(MetricNames.PrefillAttempts, MetricUnit.Count, 1);
  try {
    const deps = resolve();
    if (deps.now) arrivedAt = deps.now();
    attempt.sessionId = requireUuidParam(request.pathParameters, 'sessionId');
    const body = validatePrefillBody(await parseJsonBody(request.rawBody, request.headers));
    attempt.attributeCount = new Set([...Object.keys(body.attributes), ...Object.keys(body.consent ?? {})]).size;

    const salt = hasIdentityValues(body) ? await deps.identitySalt() : undefined;
    let processed;
    try {
      processed = processPrefill(body, salt);
    } catch (error) {
      if (error instanceof PayloadTooLargeError) attempt.byteSize = error.extensions['byteSize'] as number;
      throw error;
    }
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
      sync = (await deps.enqueue([job])).pending.length > 0 ? 'pending' : 'queued';
    } catch (cause) {
      // The job holds hashes and masked values only; logged whole so it can be replayed.
      logger.error('CRM sync job not queued after the attributes were prepared; replay it', { job, error: cause as Error });
      throw new SyncNotQueuedError(sessionId, job.jobId, applied, { cause });
    }

    const latencyMs = performance.now() - started;
    metrics.addMetric(MetricNames.PrefillSuccesses, MetricUnit.Count, 1);
    metrics.addMetric(MetricNames.PrefillPayloadBytes, MetricUnit.Bytes, processed.byteSize);
    metrics.addMetric(MetricNames.JobsEnqueued, MetricUnit.Count, 1);
    metrics.addMetric(MetricNames.PrefillLatency, MetricUnit.Milliseconds, latencyMs);
    audit(attempt, { status: 200 }, latencyMs, request.rawBody.length);
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
  } catch (error) {
    const latencyMs = performance.now() - started;
    const reason = prefillFailureReason(error);
    const problem = toProblem(error, 'audit');
    const failure = metrics.singleMetric();
    failure.addDimension('reason', reason);
    failure.addMetric(MetricNames.PrefillFailures, MetricUnit.Count, 1);
    metrics.addMetric(MetricNames.PrefillLatency, MetricUnit.Milliseconds, latencyMs);
    audit(attempt, { status: problem.statusCode, reason, problemType: problem.document.type }, latencyMs, request.rawBody.length);
    throw error;
  }
}
