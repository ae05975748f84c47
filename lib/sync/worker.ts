/**
 * The CRM sync worker's wiring: the container's CRM adapter (`CRM_PROVIDER`), DLQ sender,
 * rate limiter and breaker plugged into the batch processor, with the Lambda's remaining
 * time as budget; the record versions and the finished-chunk records (Powertools
 * idempotency, in-progress until the invocation's end) in the state table;
 * the pause in the state table, the hold-back and resend on SQS and the control
 * function's wake-up for outages; then the metrics and the batch log line. The handler in
 * functions/ only calls this.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { breakerState, PROVIDER_BURST } from '#lib/crm';
import { sharedSqsClient } from '#lib/jobs';
import type { Loaded } from '#lib/config';
import { logger, metrics } from '#lib/observability';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import { sharedDynamoDbClient, type StateTable } from '#lib/state';
import { dynamoPersistence, powertoolsChunkLedger, type ChunkLedger } from './chunks.ts';
import { adapterHeld, adapterUpsert, sharedCrmAdapter } from './crm-port.ts';
import { sendDeadLetters } from './dead-letter.ts';
import { invokeAsync, sharedLambdaClient } from './lambda.ts';
import { logBatch, publishBatchMetrics } from './observe.ts';
import type { OutageSignal } from './outage.ts';
import { holdsAt, readPause, requestPause, type PauseStore } from './pause.ts';
import { processBatch, type SyncPorts, type VersionPort } from './processor.ts';
import { holdBackMessages, resendMessages } from './requeue.ts';
import { sharedCrmBreaker, sharedCrmRateLimiter } from './shared.ts';
import { RecordVersions } from './versions.ts';

/** The worker's configuration: the `crm` section and its own `worker` section. */
export type SyncWorkerConfig = Loaded<'crm' | 'worker'>;

/** What the worker is wired to besides its configuration. */
export interface SyncWorkerDeps {
  /** The state table holding the pause and the record versions (the container's shared one). */
  store: () => StateTable;
  /**
   * The finished-chunk records of one invocation in table `tableName`, given the
   * invocation's remaining time (default: Powertools idempotency on the shared DynamoDB client).
   */
  chunks?: (tableName: string, remainingMs: () => number) => ChunkLedger;
}

let persistence: { tableName: string; layer: BasePersistenceLayer } | undefined;

/** The finished-chunk records through Powertools' DynamoDB persistence layer (one per container). */
export function sharedChunkLedger(tableName: string, remainingMs: () => number): ChunkLedger {
  if (persistence?.tableName !== tableName) persistence = { tableName, layer: dynamoPersistence(tableName, sharedDynamoDbClient()) };
  return powertoolsChunkLedger(persistence.layer, remainingMs);
}

/** Time kept back from CRM work to dead-letter, report and return before the Lambda timeout. */
export const SAFETY_MARGIN_MS = 1_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Handles one SQS event. Never throws: a configuration error hands the whole batch back
 * to SQS (logged once at cold start and again here, without message contents).
 */
export async function syncCrmBatch(
  event: SQSEvent,
  context: Pick<Context, 'getRemainingTimeInMillis'> & Partial<Pick<Context, 'awsRequestId'>>,
  config: () => SyncWorkerConfig,
  deps: SyncWorkerDeps,
): Promise<SQSBatchResponse> {
  const records = event.Records ?? [];
  let settings: SyncWorkerConfig;
  try {
    settings = config();
  } catch (error) {
    logger.error('CRM sync worker is misconfigured; the batch goes back to SQS', {
      received: records.length,
      detail: error instanceof Error ? error.message : String(error),
    });
    return { batchItemFailures: records.map((record) => ({ itemIdentifier: record.messageId })) };
  }
  const { crm, worker } = settings;
  const breaker = sharedCrmBreaker(worker.breakerHalfOpenMs);
  const store = lazyStore(deps.store);
  const tableName = worker.state?.tableName;
  const versions: VersionPort | undefined = tableName ? new RecordVersions(store) : undefined;
  const chunks = tableName ? (deps.chunks ?? sharedChunkLedger)(tableName, () => context.getRemainingTimeInMillis()) : undefined;
  const limiter = sharedCrmRateLimiter(crm.maxRequestsPerSecond, { burst: PROVIDER_BURST[crm.provider], ...(crm.maxRequestsPerSecondExplicit ? { ceilingPerSecond: crm.maxRequestsPerSecond } : {}) });
  // What is left of the invocation, less a moment to answer: SQS calls never outlive it.
  const sqsSignal = (): AbortSignal => AbortSignal.timeout(Math.max(200, context.getRemainingTimeInMillis() - 300));
  const report = await processBatch(
    records,
    { batchSize: crm.batchSize, maxReceiveCount: worker.maxReceiveCount, probeIntervalMs: worker.probeIntervalMs },
    {
      ...pausePorts(store, {
        now: Date.now,
        wake: worker.controlFunctionName ? wakeControl(worker.controlFunctionName) : undefined,
      }),
      holdBack: (messages, seconds) => holdBackMessages(sharedSqsClient(), messages, seconds, sqsSignal(), { dlqUrl: worker.dlqUrl }),
      resend: (messages, delaySeconds) => resendMessages(sharedSqsClient(), messages, delaySeconds, sqsSignal(), { dlqUrl: worker.dlqUrl }),
      upsert: adapterUpsert(sharedCrmAdapter(settings), limiter),
      ...withHeld(adapterHeld(sharedCrmAdapter(settings), limiter)),
      ...(versions ? { versions } : {}),
      ...(chunks ? { chunks } : {}),
      ...(context.awsRequestId ? { invocationId: context.awsRequestId } : {}),
      deadLetter: (letters) =>
        sendDeadLetters(letters, {
          queueUrl: worker.dlqUrl,
          client: sharedSqsClient(),
          // What is left of the invocation, less a moment to answer: unsent letters go back to SQS.
          timeoutMs: Math.max(200, context.getRemainingTimeInMillis() - 300),
        }),
      limiter,
      breaker,
      remainingMs: () => context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS,
      sleep,
    },
  );
  publishBatchMetrics(report, metrics);
  logBatch(report, logger, { breaker: breakerState(breaker) });
  return { batchItemFailures: report.batchItemFailures };
}

/** The `held` port when the adapter offers one. */
const withHeld = (held: SyncPorts['held']): Pick<SyncPorts, 'held'> => (held ? { held } : {});

/** The state table, built on first use. */
const lazyStore = (store: () => StateTable): PauseStore & Pick<StateTable, 'getMany' | 'putEach'> => ({
  get: (pk) => store().get(pk),
  getMany: (pks) => store().getMany(pks),
  put: (item, condition) => store().put(item, condition),
  putEach: (writes) => store().putEach(writes),
  delete: (pk, condition) => store().delete(pk, condition),
});

/** Wakes the control function asynchronously (InvocationType Event). */
const wakeControl = (functionName: string) => (signal: OutageSignal): Promise<void> =>
  invokeAsync(sharedLambdaClient(), functionName, { source: 'crm-sync-worker', reason: signal.kind });

/**
 * The processor's pause ports: read the pause at the start of a batch, and on an outage
 * write it and wake the control function to disable the event source mapping now rather
 * than at its next scheduled run. A failure is logged, never thrown: the batch is then
 * handed back as usual, and the next outage tries again (the fast-clock model uses these
 * same ports with its fakes).
 */
export function pausePorts(
  store: PauseStore,
  options: { now: () => number; wake: ((signal: OutageSignal) => Promise<void>) | undefined },
): Required<Pick<SyncPorts, 'pausedUntil' | 'pause'>> {
  return {
    pausedUntil: async () => {
      const pause = await readPause(store);
      return holdsAt(pause, options.now()) ? pause?.until : undefined;
    },
    pause: async (signal) => {
      const now = options.now();
      let until: number;
      try {
        const pause = await requestPause(store, { kind: signal.kind, reason: signal.reason, until: now + signal.pauseMs }, now);
        until = pause.until;
        logger.warn('CRM sync paused: the worker stops taking jobs until the CRM answers again', {
          pauseKind: pause.kind,
          reason: pause.reason,
          until: new Date(pause.until).toISOString(),
          since: new Date(pause.since).toISOString(),
        });
      } catch (error) {
        logger.error('The CRM sync pause could not be written', { error: error instanceof Error ? error.message : String(error) });
        return undefined;
      }
      if (options.wake) {
        try {
          await options.wake(signal);
        } catch (error) {
          // Its schedule runs it within a minute anyway; meanwhile batches see the pause and hand back.
          logger.warn('The CRM sync control function could not be woken', { error: error instanceof Error ? error.name : String(error) });
        }
      }
      return until;
    },
  };
}
