/** The webhook's errors: a stale delivery (a problem document) and a signing-secret rotation that failed. */
import { AppError } from '#lib/errors';

/** The event's timestamp is too far from now: 400, saying by how much. */
export class StaleEventError extends AppError {
  readonly status = 400;
  readonly type = 'stale-event';
  readonly title = 'Event timestamp out of range';
}

/** Why a rotation could not start; the script prints the message and exits. */
export type RotationFailureKind = 'invalid_input' | 'secret';

/** A rotation failure whose message says what to do; never carries the secret. */
export class RotationError extends Error {
  constructor(
    readonly kind: RotationFailureKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RotationError';
  }
}

/** A rotation that stopped after changing something; the message says what state it left. */
export class RotationAbandonedError extends Error {
  constructor(
    message: string,
    readonly installError: unknown,
  ) {
    super(message, { cause: installError });
    this.name = 'RotationAbandonedError';
  }
}
