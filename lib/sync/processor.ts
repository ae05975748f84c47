/**
 * One SQS batch of CRM sync jobs, start to finish: parse, coalesce (field by field),
 * claim each record's version (`SyncPorts.versions`: jobs at or below the newest applied
 * version are superseded, records another invocation is sending wait), chunk, upsert each
 * chunk at most once (`SyncPorts.chunks`: a chunk already finished is answered from its
 * record) with bounded concurrency and in-invocation retries, move the versions forward
 * for what the CRM confirmed, then decide each message's fate:
 *
 * - upserted (`created` / `updated` / `unchanged`), or superseded by a newer job that
 *   was, in this batch or before it: done (deleted by SQS, never sent, never dead-lettered);
 * - permanently failed (invalid job, 4xx-class record failure): moved to the DLQ with
 *   the reason, then done;
 * - still transiently failing when the invocation's time or attempts run out: returned in
 *   `batchItemFailures`, so SQS redelivers it. On its last receive (maxReceiveCount) a
 *   record the CRM keeps failing by itself is dead-lettered with the last reason; a job
 *   that only met an unwell CRM (no answer, 5xx, 429, breaker, no time or request slot
 *   left) is sent again as a new message instead, so an outage never reaches the DLQ;
 * - sent before without an answer (the claim says this very version is uncertain, or a
 *   send timed out in this invocation): before it is sent again, the CRM is asked what it
 *   holds (`SyncPorts.held`, one read per chunk); a record it already holds as it would be
 *   sent is confirmed as applied (`unchanged`) instead, so a provider without idempotency
 *   keys never writes it twice; when the read fails the record is sent as before;
 * - busy (another invocation holds the record's claim, or sends the same chunk): held back
 *   on SQS until that claim lapses and then sent as usual; never dead-lettered for being
 *   busy (on its last receive it is sent again as a new message, delayed to the lapse).
 *
 * An outage (the breaker opens, the credentials are refused, a quota is used up) pauses
 * the CRM sync through `SyncPorts.pause` (docs/api.md section 5): the rest of the batch is
 * handed back at once with its visibility stretched to the pause, and a batch that
 * arrives while a pause holds is handed back the same way without a CRM request.
 *
 * I/O comes in through `SyncPorts`, so every path is testable with fakes.
 */
import { randomUUID } from 'node:crypto';
import type { SQSBatchItemFailure, SQSRecord } from 'aws-lambda';
import { bulkhead, CircuitState, isBrokenCircuitError, type CircuitBreakerPolicy } from 'cockatiel';
import type { BatchUpsertOutcome, CrmRecordStatus } from '#lib/crm';
import type { CrmRecord } from '#lib/jobs';
import { parseJob } from '#lib/jobs/parse';
import { classifyRecordFailure, rejectedRequestCode, RETRIES_EXHAUSTED_CODE, safeFailureCode, UNSPECIFIED_FAILURE_CODE } from './classify.ts';
import { deadLetterJobId, type DeadLetter } from './dead-letter.ts';
import { breakerOutage, outageOf, type OutageSignal } from './outage.ts';
import type { PauseKind } from './pause.ts';
import type { ChunkLedger, ChunkRun } from './chunks.ts';
import { chunk, coalesce, fieldPaths, idempotencyKey, laterTime, mergeRecords, outgoingRecord, pickFields, versionOf, type CoalescedRecord, type QueuedJob } from './plan.ts';
import type { RequestRateLimiter } from './rate-limit.ts';
import { mayStillSend, type ClaimResult, type FieldVersions, type SentFields, type Settlement } from './versions.ts';

/** The newest applied version of each record's fields and the claims on it (`RecordVersions`). */
export interface VersionPort {
  /** Claims every record of the batch (one read of all their items); each record's answer or error. */
  claimMany(requests: ReadonlyArray<{ externalId: string; request: FieldVersions }>, owner: string, untilMs: number, options?: { reread?: boolean }): Promise<Map<string, ClaimResult | Error>>;
  /** Ends the claims: each record confirmed (`confirmed`) or released; the records whose write failed. */
  settleMany(settlements: ReadonlyArray<Settlement>, owner: string): Promise<Map<string, unknown>>;
  release(externalId: string, owner: string, uncertain?: SentFields): Promise<void>;
}

/** What a read of records an unanswered send left uncertain came to (`SyncPorts.held`). */
export type HeldOutcome =
  /** `held`: the externalIds the CRM already holds exactly as they would be sent. */
  | { kind: 'ok'; held: Set<string> }
  | { kind: 'failed'; reason: string; retryAfterMs?: number };

/** The newest version of each field the jobs carry (what a claim asks about). */
function wantedFields(jobs: readonly QueuedJob[]): FieldVersions {
  const wanted: FieldVersions = {};
  for (const job of jobs) {
    const version = versionOf(job);
    for (const path of fieldPaths(job.job.record)) if ((wanted[path] ?? '') < version) wanted[path] = version;
  }
  return wanted;
}

/** Why a record waits: another invocation's claim on it. */
const BUSY_CLAIM_REASON = 'another invocation is sending this record';
/**
 * The pauses before the batch's busy records are claimed again within the invocation (ms):
 * another invocation's claim ends when its batch is done, usually well within a second.
 */
const BUSY_ROUNDS = [100, 250, 500];
/** A busy record is held back this much past the other claim's end (clocks, the release write). */
const BUSY_MARGIN_MS = 1_000;
/** The failure code of records the CRM refuses because the integration lacks a scope or privilege. */
export const PERMISSION_DENIED_CODE = 'PERMISSION_DENIED';

/** The worker's tunables. */
export interface SyncSettings {
  /** Records per CRM request (`CRM_BATCH_SIZE`). */
  batchSize: number;
  /** The queue's maxReceiveCount: on that receive a still-failing message is dead-lettered with its reason. */
  maxReceiveCount: number;
  /** CRM requests in flight at once per invocation (default 4). */
  chunkConcurrency?: number;
  /** Attempts per chunk per invocation, first included (default 6). */
  maxAttemptsPerChunk?: number;
  /** Cap on one CRM request (default 10 s; less when the invocation has less time). */
  requestTimeoutMs?: number;
  /** No attempt starts with less time than this left (default 500 ms). */
  minAttemptMs?: number;
  /** Full-jitter exponential backoff between attempts without `Retry-After` (defaults 200 ms, 4 s). */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** How long an outage pauses before the first probe (default 60 s; a quota pauses until it resets). */
  probeIntervalMs?: number;
  /** Delay of a job sent again after its last receive when no pause holds (default 60 s). */
  resendDelaySeconds?: number;
}

/** SQS's limits on a message's delay and visibility, in seconds. */
const MAX_DELAY_SECONDS = 900;
/** Visibility stays under SQS's 12-hour cap, counted from the receive moments ago. */
const MAX_HOLD_SECONDS = 11 * 3_600;

/** What the processor needs from the outside world. */
export interface SyncPorts {
  upsert(records: CrmRecord[], idempotencyKey: string, timeoutMs: number): Promise<BatchUpsertOutcome>;
  /**
   * Which of `records` the CRM already holds as they would be sent (one read request).
   * Without it (the `rest` CRM replays a repeated chunk key by itself), nothing is read.
   */
  held?(records: CrmRecord[], timeoutMs: number): Promise<HeldOutcome>;
  /** Resolves with the message ids that could not be dead-lettered. */
  deadLetter(letters: DeadLetter[]): Promise<Set<string>>;
  limiter: RequestRateLimiter;
  breaker: CircuitBreakerPolicy;
  /** Time this invocation may still spend on CRM work, in ms. */
  remainingMs(): number;
  sleep(ms: number): Promise<void>;
  /** Uniform in [0, 1), for backoff jitter (default Math.random). */
  random?(): number;
  /** Monotonic ms, for request latency (default performance.now). */
  monotonicMs?(): number;
  /** Epoch ms, for pauses (default Date.now). */
  now?(): number;
  /** The end (epoch ms) of the pause holding now, if any. Without it, no pause is looked up. */
  pausedUntil?(): Promise<number | undefined>;
  /**
   * Pauses the CRM sync (writes the pause, has the event source mapping disabled);
   * resolves with the end of the pause in force, or undefined when it could not be set.
   */
  pause?(signal: OutageSignal): Promise<number | undefined>;
  /** Keeps handed-back messages invisible for `seconds` (ChangeMessageVisibility); best effort. */
  holdBack?(messages: SQSRecord[], seconds: number): Promise<void>;
  /** Sends messages again as new ones (their receive count starts over); resolves with the ids not sent. */
  resend?(messages: SQSRecord[], delaySeconds: number): Promise<Set<string>>;
  /**
   * The newest applied version per record (docs/api.md section 5): older jobs are superseded,
   * records another invocation is sending wait. Without it, nothing is checked.
   */
  versions?: VersionPort;
  /** Owner of this batch's claims (default: a random id per batch). */
  invocationId?: string;
  /** Sends each chunk at most once per key (finished chunks recorded). Without it, every try is sent. */
  chunks?: ChunkLedger;
}

/** Counts of one batch, for the log line and the metrics (no record contents). */
export interface BatchSummary {
  received: number;
  invalid: number;
  /** Messages folded into a newer job for the same record. */
  coalesced: number;
  /** Messages acknowledged unsent because a newer (or the same) version of their record was already applied. */
  superseded: number;
  /** Chunks answered from the finished-chunk records instead of being sent again. */
  chunksReplayed: number;
  /** Distinct records to upsert. */
  records: number;
  chunks: number;
  /** CRM requests made (attempts, including retries and splits). */
  requests: number;
  /** Requests the CRM answered from its idempotency store. */
  replayed: number;
  /** Latency of each CRM request, ms. */
  requestLatenciesMs: number[];
  /** Records by final CRM status (the winners only). */
  upserted: Record<Exclude<CrmRecordStatus, 'failed'>, number>;
  /** Messages moved to the DLQ (invalid, rejected, exhausted), by failure code. */
  failedPermanently: Record<string, number>;
  /** Their total. */
  deadLettered: number;
  /** Records re-sent within this invocation after a transient failure. */
  retried: number;
  /** Messages handed back to SQS (batchItemFailures). */
  deferred: number;
  /** True when the circuit breaker refused requests in this batch. */
  breakerRejected: boolean;
  /** Messages sent again as new messages after their last receive (an outage, not a verdict on them). */
  resent: number;
  /** The pause this batch met or caused, if any. */
  pause?: { kind: PauseKind | 'held'; until?: number };
}

/** The processor's answer: the partial batch response and what happened. */
export interface BatchReport {
  batchItemFailures: SQSBatchItemFailure[];
  summary: BatchSummary;
  /** Job ids (never contents) of the messages dead-lettered, by failure code, for the log. */
  deadLetteredJobIds: Record<string, string[]>;
  /** Set when something unexpected broke the batch (every message was handed back). */
  unexpectedError?: string;
}

type Fate =
  | { kind: 'done'; status: Exclude<CrmRecordStatus, 'failed'> }
  /** A newer (or the same) version of the record was already applied: acknowledged, never sent. */
  | { kind: 'superseded' }
  | { kind: 'permanent'; code: string; reason: string }
  /**
   * Another invocation is sending the record (its claim, or the same chunk in flight): held
   * back until `until` (epoch ms), never counted against the DLQ.
   */
  | { kind: 'busy'; until: number; reason: string }
  /** `request`: the CRM did not take the request (an outage); `record`: the CRM failed this record itself. */
  | { kind: 'transient'; reason: string; scope: 'request' | 'record' };

const receiveCountOf = (record: SQSRecord): number => {
  const count = Number(record.attributes?.ApproximateReceiveCount);
  return Number.isInteger(count) && count > 0 ? count : 1;
};

const emptySummary = (received: number): BatchSummary => ({
  received,
  invalid: 0,
  coalesced: 0,
  superseded: 0,
  chunksReplayed: 0,
  records: 0,
  chunks: 0,
  requests: 0,
  replayed: 0,
  requestLatenciesMs: [],
  upserted: { created: 0, updated: 0, unchanged: 0 },
  failedPermanently: {},
  deadLettered: 0,
  retried: 0,
  deferred: 0,
  breakerRejected: false,
  resent: 0,
});

/** Processes one SQS batch. Never throws: an unexpected error hands every message back to SQS. */
export async function processBatch(records: readonly SQSRecord[], settings: SyncSettings, ports: SyncPorts): Promise<BatchReport> {
  const summary = emptySummary(records.length);
  try {
    return await run(records, settings, ports, summary);
  } catch (error) {
    return {
      batchItemFailures: records.map((record) => ({ itemIdentifier: record.messageId })),
      summary: { ...summary, deferred: records.length },
      deadLetteredJobIds: {},
      unexpectedError: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    };
  }
}

async function run(records: readonly SQSRecord[], settings: SyncSettings, ports: SyncPorts, summary: BatchSummary): Promise<BatchReport> {
  const concurrency = settings.chunkConcurrency ?? 4;
  const maxAttempts = settings.maxAttemptsPerChunk ?? 6;
  const requestTimeoutMs = settings.requestTimeoutMs ?? 10_000;
  const minAttemptMs = settings.minAttemptMs ?? 500;
  const backoffBaseMs = settings.backoffBaseMs ?? 200;
  const backoffCapMs = settings.backoffCapMs ?? 4_000;
  const probeIntervalMs = settings.probeIntervalMs ?? 60_000;
  const random = ports.random ?? Math.random;
  const monotonic = ports.monotonicMs ?? (() => performance.now());
  const now = ports.now ?? Date.now;

  // 0. A pause in force: no CRM request at all (the mapping is being disabled).
  let heldUntil = ports.pausedUntil ? await ports.pausedUntil().catch(() => undefined) : undefined;
  if (heldUntil !== undefined && heldUntil <= now()) heldUntil = undefined;
  if (heldUntil !== undefined) summary.pause = { kind: 'held', until: heldUntil };

  // 1. Parse: an unreadable or invalid message is a permanent failure.
  const letters: DeadLetter[] = [];
  const byMessageId = new Map<string, SQSRecord>();
  const valid: QueuedJob[] = [];
  // A message delivered twice in one batch (SQS delivers at least once) counts once, by its
  // latest receive: its fate is reported once, and its receive count is the newest.
  const latest = new Map<string, SQSRecord>();
  for (const record of records) {
    const seen = latest.get(record.messageId);
    if (!seen || receiveCountOf(record) >= receiveCountOf(seen)) latest.set(record.messageId, record);
  }
  for (const record of latest.values()) {
    byMessageId.set(record.messageId, record);
    const parsed = parseJob(record.body);
    if (parsed.ok) {
      valid.push({ messageId: record.messageId, receiveCount: receiveCountOf(record), job: parsed.job });
    } else {
      summary.invalid += 1;
      letters.push({ message: record, code: parsed.code, reason: parsed.reason, ...(parsed.jobId ? { jobId: parsed.jobId } : {}) });
    }
  }

  // 2. Coalesce by external id (field by field).
  const entries = coalesce(valid);
  summary.records = entries.length;
  summary.coalesced = valid.length - entries.length;
  const fates = new Map<string, Fate>();

  // 2b. Never back in time: claim each record; a job none of whose fields is newer than that
  //     field's applied version is superseded, the others send only their newer fields;
  //     records another invocation is sending wait.
  const owner = ports.invocationId ?? randomUUID();
  const late = new Set<QueuedJob>();
  /** Records sent in a request that got no answer: the CRM may hold them. */
  const unanswered = new Set<string>();
  const claimed = new Map<string, CoalescedRecord>();
  /** Records whose claim says an earlier send of this very version went unanswered. */
  const uncertainOwn = new Set<string>();
  /** What each claimed record sends: the version of each field, for the confirmation. */
  const sentOf = new Map<string, SentFields>();
  /**
   * Claims `round`'s records (`reread`: their items are read again, a round after some were
   * busy) and answers with the ones to send, each with the fields it may still send.
   */
  const claimRound = async (round: readonly CoalescedRecord[], reread: boolean): Promise<CoalescedRecord[]> => {
    if (!ports.versions) return [...round];
    const versions = ports.versions;
    // The claim lasts this invocation's CRM budget: every request ends by then (its timeout
    // is capped by the time left), and it is over before the function's timeout, so the
    // claim of an invocation that dies lapses within it.
    const untilMs = now() + Math.max(0, ports.remainingMs());
    // One read of every record's item, then the claims written in parallel.
    const claims = await versions
      .claimMany(
        round.map((entry) => ({ externalId: entry.externalId, request: wantedFields([entry.winner, ...entry.superseded]) })),
        owner,
        untilMs,
        { reread },
      )
      .catch((error: unknown) => new Map<string, ClaimResult | Error>(round.map((entry) => [entry.externalId, error instanceof Error ? error : new Error(String(error))])));
    const releases: Array<Promise<void>> = [];
    for (const entry of round) {
      const claim = claims.get(entry.externalId) ?? new Error('no claim answer');
      if (claim instanceof Error) {
        fates.set(entry.externalId, { kind: 'transient', reason: 'the newest applied version of the record could not be read', scope: 'request' });
        continue;
      }
      if (claim.kind === 'busy') {
        fates.set(entry.externalId, { kind: 'busy', until: claim.until, reason: BUSY_CLAIM_REASON });
        continue;
      }
      if (claim.kind === 'superseded') {
        fates.set(entry.externalId, { kind: 'superseded' });
        continue;
      }
      // Field by field: each job sends only its fields newer than their own versions;
      // a job with none left is superseded.
      const view = claim.view ?? { fields: {}, uncertainFields: {} };
      const members = [entry.winner, ...entry.superseded];
      const sendableFields = new Map<QueuedJob, Set<string>>();
      for (const member of members) {
        const version = versionOf(member);
        const paths = fieldPaths(member.job.record).filter((path) => mayStillSend(view, path, version));
        if (paths.length > 0) sendableFields.set(member, new Set(paths));
        else late.add(member);
      }
      const kept = members.filter((member) => sendableFields.has(member));
      const [winner, ...rest] = kept;
      if (!winner) {
        // The claim found a newer field, so a job carries it; kept is never empty. Defensive only.
        fates.set(entry.externalId, { kind: 'superseded' });
        releases.push(versions.release(entry.externalId, owner).catch(() => undefined));
        continue;
      }
      const record = mergeRecords([...kept].reverse().map((member) => pickFields(member.job.record, sendableFields.get(member) as Set<string>)));
      record.lastInteraction = kept.reduce((at, member) => laterTime(at, member.job.record.lastInteraction), laterTime(record.lastInteraction, view.lastInteraction));
      record.sourceUpdatedAt = kept.reduce((at, member) => laterTime(at, member.job.record.sourceUpdatedAt), laterTime(record.sourceUpdatedAt, view.sourceUpdatedAt));
      const fields: FieldVersions = {};
      for (const member of kept) for (const path of sendableFields.get(member) ?? []) fields[path] ??= versionOf(member);
      claimed.set(entry.externalId, { ...entry, winner, superseded: rest, record });
      sentOf.set(entry.externalId, { version: versionOf(winner), fields, lastInteraction: record.lastInteraction, sourceUpdatedAt: record.sourceUpdatedAt });
      if (Object.entries(fields).some(([path, version]) => view.uncertainFields[path] === version || view.uncertain === version)) uncertainOwn.add(entry.externalId);
    }
    await Promise.all(releases);
    return round.flatMap((entry) => claimed.get(entry.externalId) ?? []);
  };

  // 3 and 4. Chunk; upsert, chunks in parallel up to the concurrency, each retried while time allows;
  //    the first outage stops every chunk and pauses the CRM sync at once.
  let breakerOpen = false;
  let outage: OutageSignal | undefined;
  let pausing: Promise<number | undefined> | undefined;
  const signalOutage = (signal: OutageSignal): void => {
    if (outage) return;
    outage = signal;
    summary.pause = { kind: signal.kind };
    pausing = ports.pause ? ports.pause(signal).catch(() => undefined) : undefined;
  };
  const backoff = (attempt: number): number => Math.floor(random() * Math.min(backoffCapMs, backoffBaseMs * 2 ** attempt));

  /**
   * Of `entries` (sent before without an answer), the ones the CRM already holds as they
   * would be sent: one read, a request like any other (time and rate limit). Empty when
   * there is no time, slot or `held` port, or the read fails: then they are sent as before.
   */
  const alreadyHeld = async (entries: CoalescedRecord[]): Promise<Set<string>> => {
    const budget = ports.remainingMs();
    if (!ports.held || entries.length === 0 || budget < minAttemptMs) return new Set();
    if (!(await ports.limiter.acquire(budget - minAttemptMs))) return new Set();
    const timeoutMs = Math.max(1, Math.min(requestTimeoutMs, ports.remainingMs()));
    const started = monotonic();
    const read = await ports.held(entries.map((entry) => outgoingRecord(entry.record)), timeoutMs).catch((): HeldOutcome => ({ kind: 'failed', reason: 'the CRM read failed' }));
    summary.requests += 1;
    summary.requestLatenciesMs.push(monotonic() - started);
    if (read.kind === 'ok') return read.held;
    if (read.retryAfterMs !== undefined) ports.limiter.pauseFor(read.retryAfterMs);
    return new Set();
  };

  const runChunk = async (items: CoalescedRecord[], top = true): Promise<void> => {
    let pending = items;
    /** Records to read before they are sent (again): their earlier send went unanswered. */
    const unconfirmed = new Set(top ? items.filter((entry) => uncertainOwn.has(entry.externalId)).map((entry) => entry.externalId) : []);
    let lastReason = 'no time was left in this invocation to send it';
    let scope: 'request' | 'record' = 'request';
    let retryAfterMs: number | undefined;
    let busyUntil: number | undefined;
    for (let attempt = 0; pending.length > 0 && attempt < maxAttempts; attempt += 1) {
      if (outage) {
        lastReason = `the CRM sync is paused: ${outage.reason}`;
        scope = 'request';
        break;
      }
      if (breakerOpen) {
        lastReason = 'the CRM circuit breaker is open after repeated failures';
        scope = 'request';
        break;
      }
      if (attempt > 0) {
        const wait = retryAfterMs ?? backoff(attempt);
        if (ports.remainingMs() - wait < minAttemptMs) break;
        await ports.sleep(wait);
        summary.retried += pending.length;
        if (outage) continue;
      }
      const budget = ports.remainingMs();
      if (budget < minAttemptMs) break;
      // The provider's daily quota is down to its reserve: pause before it refuses (docs/crm-budgets.md).
      const quota = ports.limiter.dailyQuotaHold(probeIntervalMs);
      if (quota) {
        signalOutage(quota);
        lastReason = `the CRM sync is paused: ${quota.reason}`;
        scope = 'request';
        break;
      }
      if (ports.held && pending.some((entry) => unconfirmed.has(entry.externalId))) {
        const toRead = pending.filter((entry) => unconfirmed.has(entry.externalId));
        unconfirmed.clear();
        const held = await alreadyHeld(toRead);
        // Held as it would be sent: the earlier send was applied; confirmed, never sent twice.
        for (const entry of toRead) if (held.has(entry.externalId)) fates.set(entry.externalId, { kind: 'done', status: 'unchanged' });
        pending = pending.filter((entry) => !held.has(entry.externalId));
        if (pending.length === 0) break;
      }
      if (!(await ports.limiter.acquire(ports.remainingMs() - minAttemptMs))) {
        lastReason = 'no CRM request slot (client-side rate limit) was free in the time left';
        scope = 'request';
        break;
      }
      const outgoing = pending.map((entry) => outgoingRecord(entry.record));
      const key = idempotencyKey(pending.map((entry) => ({ jobId: entry.winner.job.jobId, record: entry.record })));
      const timeoutMs = Math.max(1, Math.min(requestTimeoutMs, ports.remainingMs()));
      const send = (): Promise<BatchUpsertOutcome> => ports.breaker.execute(() => ports.upsert(outgoing, key, timeoutMs));
      let run: ChunkRun;
      const started = monotonic();
      try {
        run = ports.chunks ? await ports.chunks.once(key, send) : { kind: 'sent', outcome: await send() };
      } catch (error) {
        if (!isBrokenCircuitError(error)) throw error;
        breakerOpen = true;
        summary.breakerRejected = true;
        lastReason = 'the CRM circuit breaker is open after repeated failures';
        scope = 'request';
        signalOutage(breakerOutage(probeIntervalMs));
        break;
      }
      if (run.kind === 'in_flight') {
        // Nothing was sent: the chunk waits for the other invocation, at most one function
        // timeout (its in-progress record lapses at that invocation's end).
        busyUntil = now() + Math.max(0, ports.remainingMs()) + BUSY_MARGIN_MS;
        break;
      }
      if (run.kind === 'unavailable') {
        // Nothing was sent: the chunk waits for the state table.
        lastReason = run.reason;
        scope = 'request';
        break;
      }
      let outcome: BatchUpsertOutcome;
      if (run.kind === 'replayed') {
        summary.chunksReplayed += 1;
        const byId = new Map(run.results.map((result) => [result.externalId, result]));
        const results = pending.map((entry) => byId.get(entry.externalId));
        outcome = results.every((result) => result !== undefined)
          ? { kind: 'ok', status: 200, results, replayed: true }
          : { kind: 'transient', reason: 'the finished-chunk record does not name every record of the chunk' };
      } else {
        outcome = run.outcome;
        summary.requests += 1;
        summary.requestLatenciesMs.push(monotonic() - started);
      }
      retryAfterMs = undefined;

      if (outcome.kind === 'ok') {
        if (outcome.replayed) summary.replayed += 1;
        const next: CoalescedRecord[] = [];
        pending.forEach((entry, index) => {
          const result = outcome.results[index];
          if (!result) return;
          if (result.status !== 'failed') {
            fates.set(entry.externalId, { kind: 'done', status: result.status });
            return;
          }
          const code = result.error?.code ?? '';
          const message = result.error?.message || 'the CRM gave no message';
          if ((result.error?.classification ?? classifyRecordFailure(code)) === 'permanent') {
            fates.set(entry.externalId, { kind: 'permanent', code: code || UNSPECIFIED_FAILURE_CODE, reason: message });
          } else {
            next.push(entry);
            lastReason = `the CRM reported ${safeFailureCode(code)} for the record: ${message}`;
            scope = 'record';
          }
        });
        pending = next;
      } else if (outcome.kind === 'transient') {
        // No answer, a 5xx, or the same key still in flight (409, `rest`): the CRM may have
        // applied it, so its version is uncertain and it is read before it is sent again. A
        // refusal (429, a quota, credentials) applied nothing.
        if (run.kind === 'sent' && (outcome.status === undefined || outcome.status >= 500 || outcome.status === 409)) {
          for (const entry of pending) {
            unanswered.add(entry.externalId);
            unconfirmed.add(entry.externalId);
          }
        }
        lastReason = outcome.reason;
        scope = 'request';
        retryAfterMs = outcome.retryAfterMs;
        const signal = outageOf(outcome, probeIntervalMs, now());
        if (signal) {
          signalOutage(signal);
          break;
        }
        if (outcome.status === 429 && retryAfterMs !== undefined) ports.limiter.pauseFor(retryAfterMs);
      } else if (outcome.failure?.kind === 'permission') {
        // The integration lacks a scope or privilege: no record can pass until it is granted.
        for (const entry of pending) fates.set(entry.externalId, { kind: 'permanent', code: PERMISSION_DENIED_CODE, reason: outcome.reason });
        pending = [];
      } else {
        // The CRM refused the request itself: halve it until the record(s) it refuses stand alone.
        if (pending.length > 1) {
          const middle = Math.ceil(pending.length / 2);
          await runChunk(pending.slice(0, middle), false);
          await runChunk(pending.slice(middle), false);
        } else {
          for (const entry of pending) {
            fates.set(entry.externalId, { kind: 'permanent', code: rejectedRequestCode(outcome.status), reason: outcome.reason });
          }
        }
        pending = [];
      }
    }
    for (const entry of pending) {
      fates.set(
        entry.externalId,
        busyUntil === undefined ? { kind: 'transient', reason: lastReason, scope } : { kind: 'busy', until: busyUntil, reason: 'the same chunk is being sent by another invocation' },
      );
    }
  };

  const sendRound = async (sendable: CoalescedRecord[]): Promise<void> => {
    const chunks = chunk(sendable, settings.batchSize);
    summary.chunks += chunks.length;
    const pool = bulkhead(concurrency, Math.max(1, chunks.length));
    await Promise.all(chunks.map((items) => pool.execute(() => runChunk(items))));
    // A breaker that opened on this batch's last attempt is an outage too.
    if (ports.breaker.state === CircuitState.Open) signalOutage(breakerOutage(probeIntervalMs));
    if (pausing) {
      heldUntil = await pausing;
      if (summary.pause && heldUntil !== undefined) summary.pause.until = heldUntil;
    }
  };

  // 4b. The versions move forward for what the CRM confirmed; every other claim goes. A
  //     confirmed record whose version cannot be written goes back to SQS: on redelivery the
  //     finished-chunk record answers for it without sending it again.
  const settleRound = async (sent: CoalescedRecord[]): Promise<void> => {
    if (!ports.versions || sent.length === 0) return;
    const settlements = sent.map((entry): Settlement => {
      const fields = sentOf.get(entry.externalId) as SentFields;
      if (fates.get(entry.externalId)?.kind === 'done') return { externalId: entry.externalId, confirmed: fields };
      return { externalId: entry.externalId, ...(unanswered.has(entry.externalId) ? { uncertain: fields } : {}) };
    });
    const failed = await ports.versions
      .settleMany(settlements, owner)
      .catch((error: unknown) => new Map(settlements.map((settlement) => [settlement.externalId, error])));
    // A claim that cannot be released lapses at the invocation's end by itself.
    for (const externalId of failed.keys()) {
      if (fates.get(externalId)?.kind === 'done') {
        fates.set(externalId, { kind: 'transient', reason: 'the CRM took the record but its applied version could not be recorded', scope: 'request' });
      }
    }
  };

  // Rounds: the batch, then (while time allows, a few times) the records another invocation
  // held: its claim usually ends within that invocation's own batch, far sooner than it
  // would lapse, so waiting a moment here sends them now instead of a visibility later.
  if (heldUntil === undefined) {
    let round: readonly CoalescedRecord[] = entries;
    for (let pass = 0; ; pass += 1) {
      // A chunk's worth of records at a time, up to the concurrency: claimed, sent and
      // settled on its own, so one chunk's state-table writes overlap another's CRM request.
      const groups = chunk([...round], settings.batchSize);
      const pool = bulkhead(concurrency, Math.max(1, groups.length));
      await Promise.all(
        groups.map((group) =>
          pool.execute(async () => {
            const sendable = await claimRound(group, pass > 0);
            await sendRound(sendable);
            await settleRound(sendable);
          }),
        ),
      );
      const waiting = round.filter((entry) => {
        const fate = fates.get(entry.externalId);
        return fate?.kind === 'busy' && fate.reason === BUSY_CLAIM_REASON;
      });
      if (waiting.length === 0 || pass >= BUSY_ROUNDS.length || outage || breakerOpen || heldUntil !== undefined) break;
      const wait = BUSY_ROUNDS[pass] as number;
      if (ports.remainingMs() - wait < 2 * minAttemptMs) break;
      await ports.sleep(wait);
      round = waiting;
    }
  }
  const heldReason = (): string => `the CRM sync is paused until ${new Date(heldUntil ?? 0).toISOString()}`;

  // 5. Each message shares its record's fate.
  const deferred: string[] = [];
  const held: SQSRecord[] = [];
  /** Busy records handed back, each invisible until the other invocation's claim lapses. */
  const busyHeld: Array<{ message: SQSRecord; until: number }> = [];
  /** Last receives sent again as new messages; `until`: not before then (a busy record). */
  const resends: Array<{ message: SQSRecord; jobId: string; reason: string; until?: number }> = [];
  for (const entry of entries) {
    const fate = fates.get(entry.externalId) ?? { kind: 'transient', reason: heldUntil === undefined ? 'not attempted' : heldReason(), scope: 'request' };
    if (fate.kind === 'done') summary.upserted[fate.status] += 1;
    const winner = claimed.get(entry.externalId)?.winner ?? entry.winner;
    for (const member of [entry.winner, ...entry.superseded]) {
      if (fate.kind === 'superseded' || late.has(member)) {
        summary.superseded += 1;
        continue;
      }
      const message = byMessageId.get(member.messageId) as SQSRecord;
      const superseded = member !== winner;
      if (fate.kind === 'permanent') {
        const reason = superseded ? `superseded by job ${winner.job.jobId}, which failed: ${fate.reason}` : fate.reason;
        letters.push({ message, code: fate.code, reason, jobId: member.job.jobId });
      } else if (fate.kind === 'busy') {
        // Waiting for another invocation is no failure of the job: it never counts toward
        // the DLQ. Held back until the claim lapses; on its last receive, it starts over.
        const until = fate.until + BUSY_MARGIN_MS;
        if (member.receiveCount < settings.maxReceiveCount || !ports.resend) {
          deferred.push(member.messageId);
          busyHeld.push({ message, until });
        } else {
          resends.push({ message, jobId: member.job.jobId, reason: `${fate.reason}, and it could not be sent again as a new message (receive ${member.receiveCount} of ${settings.maxReceiveCount})`, until });
        }
      } else if (fate.kind === 'transient') {
        const reason = `${fate.reason} (still failing on receive ${member.receiveCount} of ${settings.maxReceiveCount})`;
        if (member.receiveCount < settings.maxReceiveCount) {
          deferred.push(member.messageId);
          if (heldUntil !== undefined) held.push(message);
        } else if (fate.scope === 'request' && ports.resend) {
          resends.push({ message, jobId: member.job.jobId, reason });
        } else {
          letters.push({ message, code: RETRIES_EXHAUSTED_CODE, reason, jobId: member.job.jobId });
        }
      }
    }
  }

  // 6. Last receives during an outage start over as new messages, delayed into the pause
  //    (a busy record's: until the claim it waits for lapses); one that cannot be sent is
  //    dead-lettered with its reason rather than lost.
  if (resends.length > 0 && ports.resend) {
    const resend = ports.resend;
    const untilPause = heldUntil === undefined ? undefined : Math.ceil((heldUntil - now()) / 1000);
    const delayOf = (until: number | undefined): number =>
      Math.max(0, Math.min(MAX_DELAY_SECONDS, until === undefined ? (untilPause ?? settings.resendDelaySeconds ?? 60) : Math.ceil((until - now()) / 1000)));
    const byDelay = new Map<number, typeof resends>();
    for (const entry of resends) {
      const delay = delayOf(entry.until);
      const group = byDelay.get(delay);
      if (group) group.push(entry);
      else byDelay.set(delay, [entry]);
    }
    const unsent = new Set<string>();
    await Promise.all(
      [...byDelay].map(async ([delay, group]) => {
        const ids = await resend(
          group.map((entry) => entry.message),
          delay,
        ).catch(() => new Set(group.map((entry) => entry.message.messageId)));
        for (const id of ids) unsent.add(id);
      }),
    );
    for (const entry of resends) {
      if (unsent.has(entry.message.messageId)) letters.push({ message: entry.message, code: RETRIES_EXHAUSTED_CODE, reason: entry.reason, jobId: entry.jobId });
      else summary.resent += 1;
    }
  }

  // 7. Handed back during a pause: invisible until it ends, so the queue's receives are
  //    kept; a busy record: invisible until the claim it waits for lapses.
  if (ports.holdBack) {
    const holdBack = ports.holdBack;
    const holds = new Map<number, SQSRecord[]>();
    const hold = (message: SQSRecord, until: number): void => {
      const seconds = Math.min(MAX_HOLD_SECONDS, Math.ceil((until - now()) / 1000));
      if (seconds <= 0) return;
      const group = holds.get(seconds);
      if (group) group.push(message);
      else holds.set(seconds, [message]);
    };
    if (heldUntil !== undefined) for (const message of held) hold(message, heldUntil);
    for (const { message, until } of busyHeld) hold(message, until);
    await Promise.all([...holds].map(([seconds, messages]) => holdBack(messages, seconds).catch(() => undefined)));
  }

  // 8. Dead letters: whatever cannot be sent to the DLQ goes back to SQS instead.
  const undelivered = letters.length > 0 ? await ports.deadLetter(letters) : new Set<string>();
  const deadLetteredJobIds: Record<string, string[]> = {};
  for (const letter of letters) {
    if (undelivered.has(letter.message.messageId)) {
      deferred.push(letter.message.messageId);
      continue;
    }
    const code = safeFailureCode(letter.code);
    summary.failedPermanently[code] = (summary.failedPermanently[code] ?? 0) + 1;
    summary.deadLettered += 1;
    (deadLetteredJobIds[code] ??= []).push(deadLetterJobId(letter));
  }
  summary.deferred = deferred.length;
  return { batchItemFailures: deferred.map((itemIdentifier) => ({ itemIdentifier })), summary, deadLetteredJobIds };
}
