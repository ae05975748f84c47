/**
 * Never twice (docs/api.md section 5): finished chunks are recorded in the state table under
 * their deterministic key, so a redelivered chunk the CRM already applied is answered
 * from the record instead of being sent again, with any provider (HubSpot, Salesforce and
 * Dynamics have no idempotency keys).
 *
 * This is Powertools idempotency (`makeIdempotent`) with its DynamoDB persistence layer,
 * which fits the suite's single table as it is: `keyAttr: 'pk'` with `keyPrefix: 'chunk'`
 * gives items `chunk#<md5 of the chunk key>` (the worker's IAM rights name `chunk#*`),
 * `expiryAttr: 'expiresAt'` is the table's TTL attribute (epoch seconds, as Powertools
 * writes it), and the in-progress expiry is the invocation's end
 * (`registerLambdaContext`): a chunk in flight when its Lambda died is tried again once
 * that moment has passed, while a live one in another container is left alone.
 *
 * Only a final answer is recorded (every record created, updated, unchanged or refused for
 * good): the wrapped call throws otherwise, so Powertools deletes the in-progress record
 * and the next try sends again. A call that reached the CRM is never reported as unsent,
 * even when the record could not be saved afterwards.
 */
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { BatchUpsertOutcome, CrmRecordResult } from '#lib/crm';
import { classifyRecordFailure } from './classify.ts';

/** Key prefix of the chunk records (the worker's IAM rights name it). */
export const CHUNK_PREFIX = 'chunk';

/**
 * How long a finished chunk is remembered. The record only has to bridge the moment
 * between the CRM's answer and the version write (the versions then supersede any
 * redelivery for 35 days); a day covers every redelivery of that batch by SQS.
 */
export const CHUNK_TTL_SECONDS = 24 * 3_600;

/** What sending a chunk at most once came to. */
export type ChunkRun =
  /** Sent now; `outcome` is the CRM's answer. */
  | { kind: 'sent'; outcome: BatchUpsertOutcome }
  /** Already finished by an earlier try: the recorded results, nothing sent. */
  | { kind: 'replayed'; results: CrmRecordResult[] }
  /** Another invocation is sending this chunk right now: nothing sent. */
  | { kind: 'in_flight' }
  /** The record could not be read or written before sending: nothing sent. */
  | { kind: 'unavailable'; reason: string };

/** Sends a chunk at most once per key. */
export interface ChunkLedger {
  once(key: string, send: () => Promise<BatchUpsertOutcome>): Promise<ChunkRun>;
}

/** Whether an answer is final for every record (nothing left to retry), so it may be recorded. */
export function isFinal(outcome: BatchUpsertOutcome): outcome is Extract<BatchUpsertOutcome, { kind: 'ok' }> {
  return outcome.kind === 'ok' && outcome.results.every((result) => result.status !== 'failed' || classifyRecordFailure(result.error?.code) === 'permanent');
}

/** Thrown from inside the wrapped call so that Powertools drops the in-progress record. */
class NotFinal extends Error {
  constructor() {
    super('The chunk is not finished');
    this.name = 'NotFinal';
  }
}

/** The state table's chunk records through Powertools' DynamoDB persistence layer. */
export function dynamoPersistence(tableName: string, client: DynamoDBClient): BasePersistenceLayer {
  return new DynamoDBPersistenceLayer({ tableName, keyAttr: 'pk', expiryAttr: 'expiresAt', awsSdkV3Client: client });
}

/**
 * The ledger of one invocation: records in `persistence`, in-progress records good until
 * the invocation's end (`remainingMs`, Lambda's `getRemainingTimeInMillis`).
 */
export function powertoolsChunkLedger(persistence: BasePersistenceLayer, remainingMs: () => number): ChunkLedger {
  const config = new IdempotencyConfig({ expiresAfterSeconds: CHUNK_TTL_SECONDS });
  config.registerLambdaContext({ getRemainingTimeInMillis: remainingMs } as Parameters<IdempotencyConfig['registerLambdaContext']>[0]);
  return {
    async once(key, send) {
      let outcome: BatchUpsertOutcome | undefined;
      const run = makeIdempotent(
        async (_request: { chunkKey: string }): Promise<CrmRecordResult[]> => {
          outcome = await send();
          if (!isFinal(outcome)) throw new NotFinal();
          return outcome.results;
        },
        { persistenceStore: persistence, config, keyPrefix: CHUNK_PREFIX },
      );
      try {
        const results = await run({ chunkKey: key });
        return outcome ? { kind: 'sent', outcome } : { kind: 'replayed', results };
      } catch (error) {
        // The call reached the CRM: its answer stands, whatever happened to the record after.
        if (outcome) return { kind: 'sent', outcome };
        const name = error instanceof Error ? error.name : '';
        if (name === 'IdempotencyAlreadyInProgressError') return { kind: 'in_flight' };
        if (name.startsWith('Idempotency')) return { kind: 'unavailable', reason: `the finished-chunk record could not be read or written (${name})` };
        throw error;
      }
    },
  };
}
