/**
 * The audit of an attempt, as one middleware. A route notes ids and counts while it works
 * (its `facts`); when the attempt ends, whatever its outcome, the route's `AttemptAudit`
 * turns those facts and the outcome (status, problem type, latency, request size) into one
 * structured log line and its counts. A failed attempt's outcome is the problem the HTTP
 * stack answers with, from the same mapping (`toProblem`), so the audit and the answer agree.
 */
import { randomUUID } from 'node:crypto';
import type { MiddlewareObj, Request } from '@middy/core';
import { logger } from '#lib/observability';
import { toProblem } from './problem.ts';

/** One finished attempt, as a route's audit sees it. */
export interface AuditedAttempt<TFacts extends object> {
  /** A fresh id for the audit line. */
  auditId: string;
  /** What the route noted while it worked (ids and counts, never a value). */
  facts: Partial<TFacts>;
  /** The HTTP status answered. */
  status: number;
  /** Whether the attempt ended in an error (answered as a problem). */
  failed: boolean;
  /** What was thrown, when the attempt failed. */
  error?: unknown;
  /** The problem type answered, when the attempt failed. */
  problemType?: string;
  /** Milliseconds from the start of the attempt to its end. */
  latencyMs: number;
  /** When the attempt ended. */
  endedAt: Date;
  /** The request id every log line of the invocation carries. */
  requestId: string;
  /** Bytes of the request body as received. */
  requestBytes: number;
  /** JWT claims of the caller (empty on routes without an authorizer). */
  claims: Record<string, unknown>;
}

/** A route's audit: the line it writes for each attempt, and what it counts. */
export interface AttemptAudit<TFacts extends object> {
  /** The log message of the line. Default `audit`. */
  message?: string;
  /** The structured line of this attempt; `undefined` writes none (e.g. failures the route does not audit). */
  line(attempt: AuditedAttempt<TFacts>): Record<string, unknown> | undefined;
  /** The route's metrics of this attempt, if it keeps any. */
  count?(attempt: AuditedAttempt<TFacts>): void;
}

/** What the middleware reads of the request, supplied by the stack it is part of. */
export interface AttemptSource<TEvent> {
  requestId(event: TEvent): string;
  requestBytes(event: TEvent): number;
  claims(event: TEvent): Record<string, unknown>;
}

interface AttemptState {
  facts: Record<string, unknown>;
  started: number;
  written: boolean;
}

/** The attempt in progress, keyed by the invocation's event object. */
const attempts = new WeakMap<object, AttemptState>();

/**
 * The facts of the attempt in progress for this event, for the route to fill in. Outside an
 * audited invocation it is a fresh object nobody reads.
 */
export function attemptFactsOf<TFacts extends object>(event: object): Partial<TFacts> {
  return (attempts.get(event)?.facts ?? {}) as Partial<TFacts>;
}

/**
 * The audit middleware: starts the clock and the facts in `before`, writes the line in
 * `after` (status of the response) or `onError` (status and type of the problem the error
 * maps to). An attempt refused before this middleware's `before` ran (a body over the size
 * limit, say) is not an attempt of the route and is not audited. The error is left for the
 * error handler to answer; an audit that fails is logged and never changes the answer.
 */
export function auditAttempt<TFacts extends object, TEvent extends object, TResult>(
  audit: AttemptAudit<TFacts>,
  source: AttemptSource<TEvent>,
): MiddlewareObj<TEvent, TResult> {
  const finish = (request: Request<TEvent, TResult>, outcome: { status: number; failed: boolean; error?: unknown; problemType?: string }): void => {
    const state = attempts.get(request.event);
    if (!state || state.written) return;
    state.written = true;
    try {
      const attempt: AuditedAttempt<TFacts> = {
        auditId: randomUUID(),
        facts: state.facts as Partial<TFacts>,
        ...outcome,
        latencyMs: performance.now() - state.started,
        endedAt: new Date(),
        requestId: source.requestId(request.event),
        requestBytes: source.requestBytes(request.event),
        claims: source.claims(request.event),
      };
      audit.count?.(attempt);
      const line = audit.line(attempt);
      if (line) logger.info(audit.message ?? 'audit', line);
    } catch (error) {
      logger.error('Audit of the attempt failed', { error: error as Error });
    }
  };
  return {
    before: (request) => {
      attempts.set(request.event, { facts: {}, started: performance.now(), written: false });
    },
    after: (request) => {
      const status = (request.response as { statusCode?: unknown } | undefined)?.statusCode;
      finish(request, { status: typeof status === 'number' ? status : 200, failed: false });
    },
    onError: (request) => {
      const problem = toProblem(request.error, source.requestId(request.event));
      finish(request, { status: problem.statusCode, failed: true, error: request.error, problemType: problem.document.type });
    },
  };
}
