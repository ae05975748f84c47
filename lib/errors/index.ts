/**
 * The suite's typed errors. They are thrown anywhere and turned into RFC 9457 problem
 * details in exactly one place (the HTTP error middleware in `#lib/lambda`).
 */

/** One failing field of a request, reported in a problem document's `errors[]`. */
export interface FieldError {
  path: string;
  message: string;
}

/** Base of every error the suite knows how to answer; `status` is the HTTP status. */
export abstract class AppError extends Error {
  abstract readonly status: number;
  /** Short problem type slug; becomes `type` in the problem document. */
  abstract readonly type: string;
  /** Human title; becomes `title` in the problem document. */
  abstract readonly title: string;
  /** Extra response headers (for example `Retry-After`). */
  readonly headers: Record<string, string> = {};
  /** Extra members of the problem document (never secrets or identifiers). */
  readonly extensions: Record<string, unknown> = {};

  /**
   * The problem's `detail` for callers. Defaults to the message; errors whose message
   * names internals (secret ids, hosts) for operators override it, and keep the message
   * for the logs.
   */
  get publicDetail(): string {
    return this.message;
  }

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The request is malformed or fails validation: 400 with one entry per failing path. */
export class ValidationError extends AppError {
  readonly status = 400;
  readonly type = 'validation-error';
  readonly title = 'Request validation failed';
  constructor(
    message: string,
    readonly errors: FieldError[] = [],
  ) {
    super(message);
  }
}

/** The request body is too large for the upstream limit: 413. */
export class PayloadTooLargeError extends AppError {
  readonly status = 413;
  readonly type = 'payload-too-large';
  readonly title = 'Payload too large';
}

/** The addressed resource does not exist (or no longer does): 404. */
export class NotFoundError extends AppError {
  readonly status = 404;
  readonly type = 'not-found';
  readonly title = 'Not found';
}

/** A precondition header is required but missing: 428. */
export class PreconditionRequiredError extends AppError {
  readonly status = 428;
  readonly type = 'precondition-required';
  readonly title = 'Precondition required';
}

/** The change conflicts with the current state of the resource: 409. */
export class ConflictError extends AppError {
  readonly status = 409;
  readonly type = 'conflict';
  readonly title = 'Conflict';
}

/** The caller is not authenticated (bad signature, missing credentials): 401. */
export class UnauthorizedError extends AppError {
  readonly status = 401;
  readonly type = 'unauthorized';
  readonly title = 'Unauthorized';
}

/**
 * A dependency (Genesys, the CRM, SQS) failed in a way the caller cannot fix:
 * 502 by default, 503 when it is throttling or unavailable, 504 on timeout.
 */
export class DependencyError extends AppError {
  readonly type = 'dependency-failure';
  readonly title = 'Upstream dependency failed';
  constructor(
    message: string,
    readonly status: 502 | 503 | 504 = 502,
    options?: { cause?: unknown; retryAfterSeconds?: number; extensions?: Record<string, unknown> },
  ) {
    super(message, options);
    if (options?.retryAfterSeconds !== undefined) {
      this.headers['Retry-After'] = String(Math.max(1, Math.ceil(options.retryAfterSeconds)));
    }
    if (options?.extensions) Object.assign(this.extensions, options.extensions);
  }
}

/** The deployment is misconfigured (missing or malformed settings): fails at cold start. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly variables: string[],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}
