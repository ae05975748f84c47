/**
 * Time budgets for Genesys calls. A Lambda must answer before it is killed, so every call
 * (its attempts and the waits between them) fits in what the invocation has left.
 */
import type { Context } from 'aws-lambda';

/** How much time a call may still spend, in milliseconds (never negative). */
export interface Deadline {
  remainingMs(): number;
}

/**
 * Default time kept back after a Genesys call for the function's own work: queueing the
 * CRM sync job (an SQS round trip, retried) and shaping its answer.
 */
export const DEFAULT_SAFETY_MARGIN_MS = 2_000;

/**
 * The Lambda's remaining time minus a safety margin, so a Genesys call gives up while the
 * handler can still turn the failure into a proper 504 rather than being killed mid-flight.
 */
export function deadlineFromContext(
  context: Pick<Context, 'getRemainingTimeInMillis'>,
  safetyMarginMs: number = DEFAULT_SAFETY_MARGIN_MS,
): Deadline {
  return { remainingMs: () => Math.max(0, context.getRemainingTimeInMillis() - safetyMarginMs) };
}

/** A fixed budget from now, for callers outside Lambda or with a budget of their own. */
export function deadlineAfter(budgetMs: number, now: () => number = Date.now): Deadline {
  const end = now() + budgetMs;
  return { remainingMs: () => Math.max(0, end - now()) };
}
