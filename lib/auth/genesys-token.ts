/**
 * Genesys Cloud access tokens by the OAuth client-credentials grant (docs/api.md section 4,
 * "token"), with the client id and secret from Secrets Manager (section 6).
 *
 * The token cache and its single flight are hand-written: it is one promise and one
 * timestamp, and no maintained library caches an OAuth token with an injectable clock
 * and a "re-read the credentials on 401" hook.
 */
import { exchange } from '#lib/net';
import { TokenEndpointError } from './errors.ts';
import { requireSecretString } from './secret-cache.ts';
import type { SecretCache, SecretValue } from './secret-cache.ts';
import { replacementAfterRefusal } from './rotation.ts';
import type { TokenProvider } from './types.ts';

/** Tokens are replaced this long before Genesys says they expire. */
export const TOKEN_EXPIRY_BUFFER_MS = 60_000;

/** How a `GenesysTokenProvider` is built. */
export interface GenesysTokenProviderOptions {
  secrets: SecretCache;
  /** Secret holding `clientId` and `clientSecret` (`GENESYS_CREDENTIALS_SECRET_ID`). */
  secretId: string;
  /** `https://login.{region}`, or the sandbox's login URL. */
  loginBaseUrl: string;
  fetch?: typeof fetch;
  now?: () => number;
  /** Per token request, default 10 s. */
  timeoutMs?: number;
}

/** A token and when to replace it (60 s before Genesys says it expires). */
export interface GenesysToken {
  value: string;
  refreshAt: number;
}

/** Where a token request goes and how long it may take: the provider's options, resolved once. */
export interface GenesysTokenEndpoint {
  secrets: SecretCache;
  secretId: string;
  tokenUrl: string;
  fetch: typeof fetch;
  now: () => number;
  timeoutMs: number;
}

/** The endpoint a provider's options name (the login host's `/oauth/token`, 10 s per request by default). */
export function genesysTokenEndpoint(options: GenesysTokenProviderOptions): GenesysTokenEndpoint {
  return {
    secrets: options.secrets,
    secretId: options.secretId,
    tokenUrl: `${options.loginBaseUrl.replace(/\/+$/, '')}/oauth/token`,
    fetch: options.fetch ?? globalThis.fetch,
    now: options.now ?? Date.now,
    timeoutMs: options.timeoutMs ?? 10_000,
  };
}

interface Flight {
  promise: Promise<string>;
  /** Started after invalidate(), with freshly re-read credentials. */
  fresh: boolean;
  /** Its token request has gone out: a token it brings may predate a refusal seen now. */
  sent: boolean;
  /** Set when invalidate() detached this flight: its waiters follow the newer one. */
  superseded: boolean;
}

/** The client id and secret a token request sends. */
export interface GenesysCredentials {
  clientId: string;
  clientSecret: string;
}

/**
 * The shared Genesys token source: one token per container, renewed 60 s before expiry,
 * one token request however many callers wait for it, and credentials re-read after a 401.
 *
 * Rotation (docs/api.md section 7). A rotation stores the new client secret as AWSPENDING,
 * makes Genesys accept it (often: only it), then moves AWSCURRENT. In between, the
 * AWSCURRENT value this container holds (cached, or even freshly read) is refused. So a
 * refusal (400/401) of the token endpoint triggers one re-read, forced past the cache, of
 * AWSCURRENT and AWSPENDING (`replacementAfterRefusal`), and one more token request with
 * the first of them that differs from the refused value. Nothing else is retried here: a
 * second refusal is a real credentials problem.
 */
export class GenesysTokenProvider implements TokenProvider {
  readonly #endpoint: GenesysTokenEndpoint;
  readonly #now: () => number;
  #token: GenesysToken | undefined;
  #flight: Flight | undefined;
  #rereadCredentials = false;
  /** Credentials Genesys refused, and those found to replace them (used while the cache serves the refused ones). */
  #replaced: { refused: GenesysCredentials; replacement: GenesysCredentials } | undefined;

  constructor(options: GenesysTokenProviderOptions) {
    this.#endpoint = genesysTokenEndpoint(options);
    this.#now = this.#endpoint.now;
  }

  /**
   * A cached token, or a new one that every concurrent caller shares. A caller whose
   * flight invalidate() detached while it waited gets the newer flight's result instead
   * (its own flight brings a token, or a failure, from before the refusal). The loop ends:
   * each turn awaits a newer flight, and only invalidate() makes one.
   */
  async getToken(): Promise<string> {
    for (;;) {
      if (this.#token && this.#now() < this.#token.refreshAt) return this.#token.value;
      const flight = this.#flight ?? this.#startFlight();
      try {
        const value = await flight.promise;
        if (!flight.superseded) return value;
      } catch (error) {
        if (!flight.superseded) throw error;
      }
    }
  }

  /**
   * Drops the token and makes the next request re-read the credentials (they may have
   * rotated). A request that re-reads them and has not yet sent its token request is kept,
   * so a burst of 401s from concurrent calls makes one token request; any other is
   * detached (its token could be one Genesys has already revoked) and its waiters follow
   * the new one. The refused token is not needed: every refusal is acted on.
   */
  invalidate(_rejectedToken?: string): void {
    this.#token = undefined;
    this.#rereadCredentials = true;
    if (this.#flight && (!this.#flight.fresh || this.#flight.sent)) {
      this.#flight.superseded = true;
      this.#flight = undefined;
    }
  }

  #startFlight(): Flight {
    const fresh = this.#rereadCredentials;
    const flight: Flight = { promise: Promise.resolve(''), fresh, sent: false, superseded: false };
    flight.promise = this.#requestToken(flight).then(
      (token) => {
        if (this.#flight === flight) {
          this.#flight = undefined;
          if (fresh) this.#rereadCredentials = false;
          if (this.#now() < token.refreshAt) this.#token = token;
        }
        return token.value;
      },
      (error: unknown) => {
        if (this.#flight === flight) this.#flight = undefined;
        throw error;
      },
    );
    // Waiters handle the outcome; a flight nobody waits for any more must not be unhandled.
    flight.promise.catch(() => undefined);
    this.#flight = flight;
    return flight;
  }

  async #requestToken(flight: Flight): Promise<GenesysToken> {
    const { secrets, secretId } = this.#endpoint;
    let credentials = genesysCredentials(await secrets.get(secretId, { forceRefresh: flight.fresh }), secretId);
    // The cache (5 minutes) may still serve credentials already refused in this rotation.
    const replaced = this.#replaced;
    if (replaced && sameCredentials(credentials, replaced.refused)) credentials = replaced.replacement;
    else this.#replaced = undefined;
    flight.sent = true;
    try {
      return await requestGenesysToken(this.#endpoint, credentials);
    } catch (error) {
      if (!(error instanceof TokenEndpointError) || error.reason !== 'invalid_credentials') throw error;
      const refused = credentials;
      const replacement = await replacementAfterRefusal(secrets, secretId, (secret) => !sameCredentials(genesysCredentials(secret, secretId), refused));
      if (!replacement) throw error;
      const next = genesysCredentials(replacement.secret, secretId);
      const token = await requestGenesysToken(this.#endpoint, next);
      this.#replaced = { refused, replacement: next };
      return token;
    }
  }
}

/** The client id and secret a Genesys credentials secret holds (a `SecretError` names a missing one). */
export function genesysCredentials(secret: SecretValue, secretId: string): GenesysCredentials {
  return {
    clientId: requireSecretString(secret, secretId, 'clientId'),
    clientSecret: requireSecretString(secret, secretId, 'clientSecret'),
  };
}

/**
 * One client-credentials request to the Genesys login host: the token, or a
 * `TokenEndpointError` that says whether the credentials, the network or Genesys failed.
 */
export async function requestGenesysToken(endpoint: GenesysTokenEndpoint, { clientId, clientSecret }: GenesysCredentials): Promise<GenesysToken> {
  const { timeoutMs } = endpoint;
  const startedAt = endpoint.now();

  let response: Response;
  let text: string;
  try {
    // The whole exchange, body included, under one deadline: a timeout while the body
    // streams is a network failure too. An error body is read only to free the connection.
    ({ response, text } = await exchange(
      endpoint.fetch,
      endpoint.tokenUrl,
      {
        method: 'POST',
        headers: {
          Authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`, 'utf8').toString('base64')}`,
          'Content-Type': 'application/x-www-form-urlencoded',
          Accept: 'application/json',
        },
        body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
      },
      timeoutMs,
    ));
  } catch (error) {
    throw networkError(error, timeoutMs);
  }

  if (response.status === 400 || response.status === 401) {
    throw new TokenEndpointError(
      `Genesys rejected the client credentials from secret "${endpoint.secretId}" (HTTP ${response.status})`,
      'invalid_credentials',
      { upstreamStatus: response.status },
    );
  }
  if (!response.ok) {
    throw new TokenEndpointError(`Genesys token endpoint answered HTTP ${response.status}`, 'upstream', {
      upstreamStatus: response.status,
    });
  }
  return parseTokenResponse(text, startedAt, response.status);
}

function sameCredentials(a: GenesysCredentials, b: GenesysCredentials): boolean {
  return a.clientId === b.clientId && a.clientSecret === b.clientSecret;
}

function networkError(error: unknown, timeoutMs: number): TokenEndpointError {
  const name = typeof error === 'object' && error !== null && 'name' in error ? error.name : undefined;
  const timedOut = name === 'TimeoutError' || name === 'AbortError';
  return new TokenEndpointError(
    timedOut
      ? `Genesys token endpoint did not answer within ${timeoutMs} ms`
      : 'Genesys token endpoint could not be reached',
    'network',
    { cause: error },
  );
}

/**
 * Checks `{access_token, token_type, expires_in}`. The token is kept until 60 s before
 * expiry, counted from when the request was sent (the conservative end).
 */
function parseTokenResponse(text: string, startedAt: number, status: number): GenesysToken {
  const malformed = (what: string): TokenEndpointError =>
    new TokenEndpointError(`Genesys token endpoint answered HTTP ${status} with ${what}`, 'upstream', {
      upstreamStatus: status,
    });
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    // The SyntaxError is dropped: its message would quote the body, which may hold a token.
    throw malformed('a body that is not JSON');
  }
  if (typeof body !== 'object' || body === null) throw malformed('a body that is not a JSON object');
  const { access_token: accessToken, token_type: tokenType, expires_in: expiresIn } = body as Record<string, unknown>;
  if (typeof accessToken !== 'string' || accessToken === '') throw malformed('no access_token');
  if (tokenType !== undefined && (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer')) {
    throw malformed('a token_type other than bearer');
  }
  if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn <= 0) {
    throw malformed('no positive expires_in');
  }
  return { value: accessToken, refreshAt: startedAt + expiresIn * 1000 - TOKEN_EXPIRY_BUFFER_MS };
}
