/**
 * Deadlines for every outbound call: one HTTP exchange (request and the whole answer body)
 * and every AWS SDK call run under a hard deadline, so no call can outlive its Lambda.
 */
export { withDeadline } from './deadline.ts';
export { awsCall, awsRequestHandler } from './aws.ts';
export { parseRetryAfter } from './retry-after.ts';

/** Kept for callers that test for it: a deadline error of an HTTP exchange. */
export { DeadlineExceededError as ExchangeTimeoutError } from './errors.ts';
export { exchange, exchangeJson } from './exchange.ts';
export type { JsonAnswer } from './exchange.ts';
