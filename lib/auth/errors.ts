/**
 * Errors of the auth layer. Messages name the secret id, the key or the HTTP status, never
 * a secret value, a token or an Authorization header, so they are safe to log.
 */
import { AppError } from '#lib/errors';

/** Why a secret could not be used. */
export type SecretErrorReason = 'not_found' | 'malformed' | 'missing_key' | 'read_failed';

/**
 * A secret could not be read or does not have the expected shape. `read_failed` (Secrets
 * Manager unavailable or throttling) is 503; the others are deployment mistakes, 500.
 */
export class SecretError extends AppError {
  readonly status: 500 | 503;
  readonly type = 'secret-unavailable';
  readonly title = 'Service credentials unavailable';
  /** The secret key that was missing or invalid, when the error is about one key. */
  readonly key: string | undefined;

  constructor(
    message: string,
    readonly secretId: string,
    readonly reason: SecretErrorReason,
    options?: { cause?: unknown; key?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = reason === 'read_failed' ? 503 : 500;
    this.key = options?.key;
  }

  /** Callers learn that credentials are unavailable, not which secret the deployment uses. */
  override get publicDetail(): string {
    return this.reason === 'read_failed'
      ? 'Service credentials could not be read right now; try again shortly.'
      : 'The service is missing or has malformed credentials; the operators have been told in the logs.';
  }
}

/** Why the OAuth token endpoint did not give us a token. */
export type TokenEndpointErrorReason = 'invalid_credentials' | 'network' | 'upstream';

/**
 * The Genesys login service did not issue a token. Callers answer 502: the client cannot
 * fix it. `reason` tells operators whether to rotate credentials or look at the network.
 */
export class TokenEndpointError extends AppError {
  readonly status = 502;
  readonly type = 'token-endpoint-failure';
  readonly title = 'Could not obtain an access token';
  /** The HTTP status the token endpoint answered with, when it answered at all. */
  readonly upstreamStatus: number | undefined;

  constructor(
    message: string,
    readonly reason: TokenEndpointErrorReason,
    options?: { cause?: unknown; upstreamStatus?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.upstreamStatus = options?.upstreamStatus;
  }

  /** Callers learn that the upstream sign-in failed, not which secret or host was involved. */
  override get publicDetail(): string {
    return 'Could not obtain an access token from Genesys Cloud.';
  }
}
