/**
 * A fast-clock model of the CRM sync in AWS, to play hours of CRM outage in well under a
 * second. Every part of the suite in it is the real code: the batch processor (retries,
 * breaker, limiter, outage signals, hold-back and resend decisions), the worker's pause
 * ports (`pausePorts`), the control function's logic (`controlCrmSync`) and the state
 * table (`MemoryStateTable`). What AWS does is modelled, as documented:
 *
 * - SQS: a message received is invisible for the visibility timeout; `ApproximateReceiveCount`
 *   grows by one per receive; a message received `maxReceiveCount` times that becomes
 *   visible again is moved to the DLQ by the redrive policy instead of being delivered;
 *   ChangeMessageVisibility and DelaySeconds postpone visibility; a delete needs the
 *   latest receipt handle.
 * - The event source mapping: polls while `Enabled` (and while `Disabling`, for a lag:
 *   in-flight pollers still deliver for a moment after UpdateEventSourceMapping), gathers
 *   up to `batchSize` messages for up to the batching window, invokes the worker with a
 *   deadline (its timeout), deletes what the worker did not name in `batchItemFailures`.
 *   Concurrency is modelled as one poller: it changes throughput, not receive counts.
 * - EventBridge runs the control function every minute; the worker's asynchronous Invoke
 *   runs it moments later.
 *
 * Time moves only when something waits (a backoff, the batching window, an idle poll, a
 * CRM answer), on one virtual clock that `Date.now` also reads during a run (cockatiel's
 * breaker measures its half-open delay with it).
 */
import type { SQSRecord } from 'aws-lambda';
import type { MappingState } from '#lib/sync/lambda.ts';
import { RequestRateLimiter } from '#lib/sync/rate-limit.ts';
import { processBatch, type SyncPorts } from '#lib/sync/processor.ts';
import { pausePorts } from '#lib/sync/worker.ts';
import { controlCrmSync } from '#lib/sync/control.ts';
import { createCrmBreaker, type BatchUpsertOutcome, type CrmRecordResult } from '#lib/crm';
import { buildJob, deterministicJobId, toMessageBody, type CrmRecord } from '#lib/jobs';
import { MemoryStateTable } from '#lib/state/table.ts';
import { probeResultOf } from '#lib/sync/outage.ts';

/** What the CRM does at a given time. */
export type CrmBehaviour =
  /** Takes every request. */
  | { kind: 'up' }
  /** 503 to everything (an outage). */
  | { kind: 'down' }
  /** 429 with Retry-After until `resetAt` (a daily quota). */
  | { kind: 'quota'; resetAt: number };

/** One scenario. Times are ms of simulated time from the start. */
export interface OutageScenario {
  /** The CRM's behaviour at `t`. */
  crm: (t: number) => CrmBehaviour;
  /** Jobs waiting at the start. */
  backlog: number;
  /** Then one job every this many ms until `arrivalsUntil` (0: none). */
  arrivalEveryMs: number;
  arrivalsUntil: number;
  /** Give up at this time if the queue has not drained. */
  endBy: number;
  /** false: the worker without the pause, hold-back and resend ports (the code before them). */
  pause?: boolean;
  /** serverless.yml values (defaults: the deployed stage). */
  visibilitySeconds?: number;
  maxReceiveCount?: number;
  workerTimeoutMs?: number;
  batchSize?: number;
  batchingWindowMs?: number;
  crmBatchSize?: number;
  probeIntervalMs?: number;
  breakerHalfOpenMs?: number;
  /** How long the mapping keeps delivering after it was disabled (default 5 s). */
  disableLagMs?: number;
  /** The control function cannot switch the mapping (UpdateEventSourceMapping fails). */
  mappingSwitchFails?: boolean;
}

/** What a scenario came to. */
export interface OutageResult {
  jobs: number;
  /** Distinct job ids stored in the CRM. */
  inCrm: number;
  /** Messages in the DLQ, and the distinct jobs among them. */
  dlqMessages: number;
  dlqJobs: number;
  /** Messages still queued at the end (0 when the queue drained). */
  leftInQueue: number;
  /** Receives of all messages, per job. */
  receivesPerJob: number;
  /** Receives that happened while a pause held (the mapping's disable lag). */
  receivesWhilePaused: number;
  /** CRM requests (upserts and probes) made while the CRM was down or over its quota. */
  crmRequestsWhileUnavailable: number;
  probes: number;
  /** Total time the mapping was disabled, ms. */
  pausedMs: number;
  /** Jobs sent again as new messages after their last receive. */
  resent: number;
  /** When the queue drained (ms of simulated time), or undefined. */
  drainedAt?: number;
  /** Simulated ms the run covered. */
  simulatedMs: number;
}

interface Message {
  id: string;
  body: string;
  jobId: string;
  resendCount: number;
  receiveCount: number;
  visibleAt: number;
  receipt: string;
  sentAt: number;
}

/** SQS as documented (see the file comment). */
class ModelQueue {
  readonly messages = new Map<string, Message>();
  readonly dlq: Message[] = [];
  receives = 0;
  #seq = 0;

  constructor(
    private readonly clock: { now: number },
    private readonly visibilityMs: number,
    private readonly maxReceiveCount: number,
  ) {}

  send(body: string, jobId: string, delayMs = 0, resendCount = 0): void {
    this.#seq += 1;
    const id = `m-${this.#seq}`;
    this.messages.set(id, { id, body, jobId, resendCount, receiveCount: 0, visibleAt: this.clock.now + delayMs, receipt: '', sentAt: this.clock.now });
  }

  visibleCount(): number {
    let count = 0;
    for (const message of this.messages.values()) if (message.visibleAt <= this.clock.now) count += 1;
    return count;
  }

  receive(max: number): Message[] {
    const visible = [...this.messages.values()].filter((m) => m.visibleAt <= this.clock.now).sort((a, b) => a.visibleAt - b.visibleAt || a.sentAt - b.sentAt);
    const taken: Message[] = [];
    for (const message of visible) {
      if (taken.length >= max) break;
      if (message.receiveCount >= this.maxReceiveCount) {
        // The redrive policy: moved to the DLQ instead of being delivered again.
        this.messages.delete(message.id);
        this.dlq.push(message);
        continue;
      }
      message.receiveCount += 1;
      message.visibleAt = this.clock.now + this.visibilityMs;
      this.#seq += 1;
      message.receipt = `r-${this.#seq}`;
      this.receives += 1;
      taken.push(message);
    }
    return taken;
  }

  delete(id: string, receipt: string): void {
    if (this.messages.get(id)?.receipt === receipt) this.messages.delete(id);
  }

  changeVisibility(id: string, receipt: string, seconds: number): void {
    const message = this.messages.get(id);
    if (message?.receipt === receipt) message.visibleAt = this.clock.now + seconds * 1000;
  }
}

/** A seeded pseudo-random sequence, so every run is the same. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

function jobBody(index: number): { body: string; jobId: string } {
  const at = new Date(Date.UTC(2025, 2, 1, 10) + index * 1000).toISOString();
  const record: CrmRecord = { externalId: `guest-${index}`, emailHash: 'c'.repeat(64), attributes: { n: index }, lastInteraction: at, sourceUpdatedAt: at };
  const job = buildJob('guest', deterministicJobId('guest', record), record, new Date(at));
  return { body: toMessageBody(job), jobId: job.jobId };
}

/** Plays one scenario on the fast clock. */
export async function runOutageModel(scenario: OutageScenario): Promise<OutageResult> {
  const visibilityMs = (scenario.visibilitySeconds ?? 180) * 1000;
  const maxReceiveCount = scenario.maxReceiveCount ?? 5;
  const workerTimeoutMs = scenario.workerTimeoutMs ?? 30_000;
  const batchSize = scenario.batchSize ?? 100;
  const windowMs = scenario.batchingWindowMs ?? 5_000;
  const probeIntervalMs = scenario.probeIntervalMs ?? 60_000;
  const disableLagMs = scenario.disableLagMs ?? 5_000;
  const withPause = scenario.pause ?? true;

  const clock = { now: Date.UTC(2025, 2, 1, 12) };
  const start = clock.now;
  const t = (): number => clock.now - start;
  const sleep = async (ms: number): Promise<void> => {
    clock.now += Math.max(0, ms);
  };
  const realDateNow = Date.now;
  Date.now = () => clock.now;
  try {
    const queue = new ModelQueue(clock, visibilityMs, maxReceiveCount);
    const store = new MemoryStateTable(() => clock.now);
    const crmRecords = new Map<string, number>();
    let crmRequestsWhileUnavailable = 0;
    let probes = 0;

    // The CRM: 100 ms per request.
    const crmAnswer = (): { status: number; retryAfterMs?: number } => {
      const behaviour = scenario.crm(t());
      if (behaviour.kind === 'up') return { status: 200 };
      crmRequestsWhileUnavailable += 1;
      if (behaviour.kind === 'down') return { status: 503 };
      return { status: 429, retryAfterMs: Math.max(1_000, behaviour.resetAt - t()) };
    };
    const upsert = async (records: CrmRecord[]): Promise<BatchUpsertOutcome> => {
      await sleep(100);
      const answer = crmAnswer();
      if (answer.status !== 200) {
        return { kind: 'transient', status: answer.status, reason: `the CRM answered ${answer.status}`, ...(answer.retryAfterMs === undefined ? {} : { retryAfterMs: answer.retryAfterMs }) };
      }
      const results = records.map((record): CrmRecordResult => {
        const seen = crmRecords.has(record.externalId);
        crmRecords.set(record.externalId, (crmRecords.get(record.externalId) ?? 0) + 1);
        return { externalId: record.externalId, status: seen ? 'unchanged' : 'created' };
      });
      return { kind: 'ok', status: 200, results, replayed: false };
    };

    // The event source mapping, switched through the (modelled) Lambda API.
    let mapping: { enabled: boolean; changedAt: number } = { enabled: true, changedAt: clock.now };
    let pausedMs = 0;
    let disabledSince: number | undefined;
    const mappingState = (): MappingState => (mapping.enabled ? 'enabled' : 'disabled');
    const delivering = (): boolean => mapping.enabled || clock.now - mapping.changedAt < disableLagMs;
    let receivesWhilePaused = 0;
    const pauseHolds = async (): Promise<boolean> => {
      const item = await store.get<{ pk: string; until: number; phase: string }>('pause#crm-sync');
      return item !== undefined && item.phase === 'paused' && item.until > clock.now;
    };

    // The control function; woken asynchronously by the worker, and every minute.
    let wakeUps = 0;
    const runControl = async (): Promise<void> => {
      // A failing run throws, as the function would; the next one starts over.
      await controlCrmSync(
        {
          store,
          mapping: {
            state: async () => mappingState(),
            setEnabled: async (enabled) => {
              if (scenario.mappingSwitchFails) throw new Error('AccessDeniedException');
              if (enabled === mapping.enabled) return;
              if (!enabled) disabledSince = clock.now;
              else if (disabledSince !== undefined) {
                pausedMs += clock.now - disabledSince;
                disabledSince = undefined;
              }
              mapping = { enabled, changedAt: clock.now };
            },
          },
          probe: async () => {
            probes += 1;
            await sleep(100);
            const answer = crmAnswer();
            return probeResultOf(answer);
          },
          now: () => clock.now,
        },
        { probeIntervalMs },
      ).catch(() => undefined);
    };

    // The worker's container: one breaker and one limiter, kept across invocations.
    const breaker = createCrmBreaker({ halfOpenAfterMs: scenario.breakerHalfOpenMs ?? 30_000 });
    const limiter = new RequestRateLimiter(10, { now: () => clock.now, sleep });
    const random = seeded(7);
    let resent = 0;
    const dlqLetters: string[] = [];
    const byRecordId = new Map<string, Message>();
    const invokeWorker = async (records: SQSRecord[]): Promise<Set<string>> => {
      const deadline = clock.now + workerTimeoutMs;
      const ports: SyncPorts = {
        upsert: (outgoing) => upsert(outgoing),
        deadLetter: async (letters) => {
          for (const letter of letters) {
            const message = byRecordId.get(letter.message.messageId);
            if (message) dlqLetters.push(message.jobId);
          }
          return new Set();
        },
        limiter,
        breaker,
        remainingMs: () => deadline - clock.now - 1_000,
        sleep,
        random,
        monotonicMs: () => clock.now,
        now: () => clock.now,
        ...(withPause
          ? {
              ...pausePorts(store, {
                now: () => clock.now,
                wake: async () => {
                  wakeUps += 1;
                },
              }),
              holdBack: async (messages, seconds) => {
                for (const record of messages) queue.changeVisibility(record.messageId, record.receiptHandle, seconds);
              },
              resend: async (messages, delaySeconds) => {
                for (const record of messages) {
                  const original = byRecordId.get(record.messageId);
                  queue.send(record.body, original?.jobId ?? '', delaySeconds * 1000, (original?.resendCount ?? 0) + 1);
                  resent += 1;
                }
                return new Set<string>();
              },
            }
          : {}),
      };
      const report = await processBatch(records, { batchSize: scenario.crmBatchSize ?? 50, maxReceiveCount, probeIntervalMs }, ports);
      return new Set(report.batchItemFailures.map((failure) => failure.itemIdentifier));
    };

    const toRecord = (message: Message): SQSRecord => ({
      messageId: message.id,
      receiptHandle: message.receipt,
      body: message.body,
      attributes: { ApproximateReceiveCount: String(message.receiveCount), SentTimestamp: String(message.sentAt), SenderId: 'model', ApproximateFirstReceiveTimestamp: String(message.sentAt) },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:genesys-guest-sync-model-crm-sync',
      awsRegion: 'eu-west-1',
    });

    // Jobs: the backlog now, then a steady trickle.
    let produced = 0;
    const produce = (): void => {
      const { body, jobId } = jobBody(produced);
      produced += 1;
      queue.send(body, jobId);
    };
    for (let i = 0; i < scenario.backlog; i += 1) produce();
    let nextArrival = scenario.arrivalEveryMs > 0 ? scenario.arrivalEveryMs : Number.POSITIVE_INFINITY;
    let nextControl = 60_000;
    let drainedAt: number | undefined;

    while (t() < scenario.endBy) {
      while (t() >= nextArrival && nextArrival <= scenario.arrivalsUntil) {
        produce();
        nextArrival += scenario.arrivalEveryMs;
      }
      if (t() >= nextControl) {
        await runControl();
        nextControl += 60_000;
      }
      if (wakeUps > 0) {
        wakeUps = 0;
        await sleep(200);
        await runControl();
      }
      if (queue.messages.size === 0 && nextArrival > scenario.arrivalsUntil) {
        drainedAt = t();
        break;
      }
      if (!delivering() || queue.visibleCount() === 0) {
        // An idle long poll (or a disabled mapping): a second passes.
        await sleep(1_000);
        continue;
      }
      // Gather a batch for up to the window, as the event source mapping does.
      let batch = queue.receive(batchSize);
      if (batch.length < batchSize && windowMs > 0) {
        await sleep(windowMs);
        while (t() >= nextArrival && nextArrival <= scenario.arrivalsUntil) {
          produce();
          nextArrival += scenario.arrivalEveryMs;
        }
        batch = [...batch, ...queue.receive(batchSize - batch.length)];
      }
      if (batch.length === 0) continue;
      if (await pauseHolds()) receivesWhilePaused += batch.length;
      const records = batch.map((message) => {
        const record = toRecord(message);
        byRecordId.set(message.id, { ...message });
        return record;
      });
      const failed = await invokeWorker(records);
      for (const message of batch) {
        if (!failed.has(message.id)) queue.delete(message.id, message.receipt);
      }
      for (const message of batch) byRecordId.delete(message.id);
    }
    if (disabledSince !== undefined) pausedMs += clock.now - disabledSince;

    const jobIds = new Set(Array.from({ length: produced }, (_, i) => jobBody(i).jobId));
    const inCrm = [...crmRecords.keys()].length;
    const dlqJobs = new Set([...queue.dlq.map((m) => m.jobId), ...dlqLetters]);
    return {
      jobs: jobIds.size,
      inCrm,
      dlqMessages: queue.dlq.length + dlqLetters.length,
      dlqJobs: dlqJobs.size,
      leftInQueue: queue.messages.size,
      receivesPerJob: queue.receives / Math.max(1, produced),
      receivesWhilePaused,
      crmRequestsWhileUnavailable,
      probes,
      pausedMs,
      resent,
      ...(drainedAt === undefined ? {} : { drainedAt }),
      simulatedMs: t(),
    };
  } finally {
    Date.now = realDateNow;
  }
}
