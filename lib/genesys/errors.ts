/**
 * The one error every failed Genesys call surfaces as. Its HTTP `status` is what our own
 * callers see (docs/api.md section 2, prefill upstream mapping); the upstream facts ride along
 * for logs and for callers that branch on them (412 merge-and-retry, SQS redelivery).
 */
import { AppError } from '#lib/errors';

/** How a call failed: no answer in time, no answer at all, or an unwanted answer. */
export type GenesysFailureKind = 'timeout' | 'network' | 'http';

/** What is known about a failed call; never the request body, the token or attribute values. */
export interface GenesysFailure {
  operation: string;
  kind: GenesysFailureKind;
  /** Genesys' status; undefined when no answer came (network error or timeout). */
  upstreamStatus?: number;
  /** Whether the failure is transient (429, 5xx, network, timeout): worth trying later. */
  retryable: boolean;
  /** Requests sent, including a token-refresh retry. */
  attempts: number;
  /** `ININ-Correlation-Id` of the last answer, for Genesys support. */
  correlationId?: string;
  /** Seconds Genesys asked us to wait, when the last answer was a 429 with `Retry-After`. */
  retryAfterSeconds?: number;
  /** Genesys' machine-readable error code (e.g. `not.found`), when its error body had one. */
  upstreamCode?: string;
  /** True when the call was never sent because the deadline had already passed. */
  notAttempted?: boolean;
}

/** Seconds a caller is told to wait after Genesys throttled us without saying how long. */
export const DEFAULT_THROTTLED_RETRY_AFTER_SECONDS = 5;

interface Mapping {
  status: number;
  type: string;
  title: string;
}

/** docs/api.md section 2: 404 -> 404, 412 -> 412, 429 -> 503, timeout -> 504, else 502. */
function mapFailure(failure: GenesysFailure): Mapping {
  if (failure.kind === 'timeout') {
    return { status: 504, type: 'dependency-timeout', title: 'Upstream dependency timed out' };
  }
  switch (failure.upstreamStatus) {
    case 404:
      return { status: 404, type: 'not-found', title: 'Not found' };
    case 412:
      return { status: 412, type: 'precondition-failed', title: 'Precondition failed' };
    case 429:
      return { status: 503, type: 'dependency-unavailable', title: 'Upstream dependency unavailable' };
    default:
      return { status: 502, type: 'dependency-failure', title: 'Upstream dependency failed' };
  }
}

function describe(failure: GenesysFailure): string {
  const tries = `after ${failure.attempts} attempt${failure.attempts === 1 ? '' : 's'}`;
  if (failure.notAttempted) return `Genesys ${failure.operation} not attempted: the deadline has passed`;
  if (failure.kind === 'timeout') return `Genesys ${failure.operation} timed out ${tries}`;
  if (failure.kind === 'network') return `Genesys ${failure.operation} failed with a network error ${tries}`;
  return `Genesys ${failure.operation} failed with HTTP ${failure.upstreamStatus ?? '?'} ${tries}`;
}

/**
 * A failed Genesys call, already mapped to the status our API answers with. The message
 * names the operation and the upstream status only: request bodies may carry PII.
 */
export class GenesysError extends AppError {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly operation: string;
  readonly kind: GenesysFailureKind;
  readonly upstreamStatus: number | undefined;
  readonly retryable: boolean;
  readonly attempts: number;
  readonly correlationId: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly upstreamCode: string | undefined;

  constructor(failure: GenesysFailure, options?: { cause?: unknown }) {
    super(describe(failure), options);
    const mapping = mapFailure(failure);
    this.status = mapping.status;
    this.type = mapping.type;
    this.title = mapping.title;
    this.operation = failure.operation;
    this.kind = failure.kind;
    this.upstreamStatus = failure.upstreamStatus;
    this.retryable = failure.retryable;
    this.attempts = failure.attempts;
    this.correlationId = failure.correlationId;
    this.retryAfterSeconds = failure.retryAfterSeconds;
    this.upstreamCode = failure.upstreamCode;
    if (mapping.status === 503) {
      const seconds = failure.retryAfterSeconds ?? DEFAULT_THROTTLED_RETRY_AFTER_SECONDS;
      this.headers['Retry-After'] = String(Math.max(1, Math.ceil(seconds)));
    }
    this.extensions['operation'] = failure.operation;
  }
}
