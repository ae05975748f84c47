/**
 * The Genesys token provider as it was before rotation handling (lib/auth/genesys-token.ts
 * at commit 7dba3f7), kept verbatim but for its imports so bench/rotation.ts can show the
 * same rotation against both: a refusal of cached credentials is not retried, and callers
 * waiting on a request that invalidate() replaced still get its failure.
 */
import { SecretCache, TokenEndpointError, requireSecretString } from '#lib/auth';
import type { TokenProvider } from '#lib/auth';
import { exchange } from '#lib/net';

const TOKEN_EXPIRY_BUFFER_MS = 60_000;

/** How the provider is built. */
interface GenesysTokenProviderOptions {
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

interface CachedToken {
  value: string;
  refreshAt: number;
}

interface Flight {
  promise: Promise<string>;
  /** Started after invalidate(), with freshly re-read credentials. */
  fresh: boolean;
}

/**
 * The shared Genesys token source: one token per container, renewed 60 s before expiry,
 * one token request however many callers wait for it, and credentials re-read after a 401.
 */
export class PreRotationTokenProvider implements TokenProvider {
  readonly #secrets: SecretCache;
  readonly #secretId: string;
  readonly #tokenUrl: string;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  readonly #timeoutMs: number;
  #token: CachedToken | undefined;
  #flight: Flight | undefined;
  #rereadCredentials = false;

  constructor(options: GenesysTokenProviderOptions) {
    this.#secrets = options.secrets;
    this.#secretId = options.secretId;
    this.#tokenUrl = `${options.loginBaseUrl.replace(/\/+$/, '')}/oauth/token`;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#now = options.now ?? Date.now;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** A cached token, or a new one that every concurrent caller shares. */
  getToken(): Promise<string> {
    if (this.#token && this.#now() < this.#token.refreshAt) return Promise.resolve(this.#token.value);
    if (this.#flight) return this.#flight.promise;

    const fresh = this.#rereadCredentials;
    const promise = this.#requestToken(fresh).then(
      (token) => {
        if (this.#flight?.promise === promise) {
          this.#flight = undefined;
          if (fresh) this.#rereadCredentials = false;
          if (this.#now() < token.refreshAt) this.#token = token;
        }
        return token.value;
      },
      (error: unknown) => {
        if (this.#flight?.promise === promise) this.#flight = undefined;
        throw error;
      },
    );
    this.#flight = { promise, fresh };
    return promise;
  }

  /**
   * Drops the token and makes the next request re-read the credentials (they may have
   * rotated). A request already started with re-read credentials is kept, so a burst of
   * 401s from concurrent calls still makes one token request.
   */
  invalidate(): void {
    this.#token = undefined;
    this.#rereadCredentials = true;
    if (this.#flight && !this.#flight.fresh) this.#flight = undefined;
  }

  async #requestToken(rereadCredentials: boolean): Promise<CachedToken> {
    const secret = await this.#secrets.get(this.#secretId, { forceRefresh: rereadCredentials });
    const clientId = requireSecretString(secret, this.#secretId, 'clientId');
    const clientSecret = requireSecretString(secret, this.#secretId, 'clientSecret');
    const startedAt = this.#now();

    let response: Response;
    let text: string;
    try {
      // The whole exchange, body included, under one deadline: a timeout while the body
      // streams is a network failure too. An error body is read only to free the connection.
      ({ response, text } = await exchange(
        this.#fetch,
        this.#tokenUrl,
        {
          method: 'POST',
          headers: {
            Authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`, 'utf8').toString('base64')}`,
            'Content-Type': 'application/x-www-form-urlencoded',
            Accept: 'application/json',
          },
          body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
        },
        this.#timeoutMs,
      ));
    } catch (error) {
      throw networkError(error, this.#timeoutMs);
    }

    if (response.status === 400 || response.status === 401) {
      throw new TokenEndpointError(
        `Genesys rejected the client credentials from secret "${this.#secretId}" (HTTP ${response.status})`,
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
function parseTokenResponse(text: string, startedAt: number, status: number): CachedToken {
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
