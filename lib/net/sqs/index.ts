/** The one SQS batch sender (a subpath of `#lib/net`, so only its users load the SQS client). */
export { SQS_BATCH_SIZE, SQS_MIN_CALL_MS, sendSqsBatches } from './batch.ts';
export type { SqsBatchOptions, SqsBatchResult } from './batch.ts';
