/** The one SQS batch sender (a subpath of `#lib/net`, so only its users load the SQS client). */
export { sendSqsBatches } from './batch.ts';
