/**
 * Tokens for the CRM providers (docs/api.md sections 6 and 7): the OAuth 2.0 client-credentials
 * flow Salesforce and the Microsoft identity platform (Dynamics 365) use, and the static
 * private app token HubSpot uses, all read from the CRM secret through the shared
 * `SecretCache`. Tokens are cached until 60 s before expiry; concurrent callers share one
 * refresh; when the token endpoint refuses the credentials (400 / 401) or an API refuses a
 * fresh token, the secret is re-read at once (a rotation may be under way) and the call is
 * tried once more. Hand-written: the one OAuth library among the dependencies (`jose`)
 * only signs and verifies JWTs; it has no client-credentials client.
 */
import { exchange } from '#lib/net';
import { requireSecretString, type SecretCache, type TokenProvider } from '#lib/auth';
import { CrmCredentialsError, CrmTokenEndpointError } from './errors.ts';

/** Tokens are replaced this long before they expire. */
export const TOKEN_REFRESH_MARGIN_MS = 60_000;

/** A token provider that may also know the API host its token is for (Salesforce `instance_url`). */
export interface CrmTokenSource extends TokenProvider {
  /** The instance URL the last token came with, if the endpoint names one. */
  instanceUrl(): string | undefined;
}

/** How a client-credentials provider is built. */
export interface ClientCredentialsOptions {
  secrets: SecretCache;
  /** `CRM_CREDENTIALS_SECRET_ID`. */
  secretId: string;
  /** `salesforce`: `{loginUrl}/services/oauth2/token`; `dynamics`: the identity platform. */
  flavour: 'salesforce' | 'dynamics';
  /** Dynamics: `DYNAMICS_URL` (the scope is `{DYNAMICS_URL}/.default`). */
  resourceUrl?: string;
  /**
   * `CRM_TOKEN_URL`: the token endpoint to use instead of the provider's. `{tenantId}` in
   * it is replaced by the secret's tenant id.
   */
  tokenUrl?: string;
  /** Lifetime assumed when the endpoint gives no `expires_in` (Salesforce does not; default 30 min). */
  defaultLifetimeMs?: number;
  /** Deadline of one token request (default 5 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

interface CachedToken {
  token: string;
  expiresAt: number;
  instanceUrl?: string;
}

/** The token URL of a provider for the given secret. */
export function tokenEndpoint(options: Pick<ClientCredentialsOptions, 'flavour' | 'tokenUrl'>, secret: { loginUrl?: string; tenantId?: string }): string {
  if (options.tokenUrl) return options.tokenUrl.replace('{tenantId}', encodeURIComponent(secret.tenantId ?? ''));
  if (options.flavour === 'salesforce') return `${(secret.loginUrl ?? '').replace(/\/+$/, '')}/services/oauth2/token`;
  return `https://login.microsoftonline.com/${encodeURIComponent(secret.tenantId ?? '')}/oauth2/v2.0/token`;
}

/** OAuth client-credentials tokens for Salesforce and Dynamics 365, cached and single-flight. */
export class ClientCredentialsTokenProvider implements CrmTokenSource {
  readonly #options: ClientCredentialsOptions;
  readonly #now: () => number;
  #cached: CachedToken | undefined;
  #inFlight: Promise<CachedToken> | undefined;
  #rereadSecret = false;

  constructor(options: ClientCredentialsOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** A token valid for at least another minute. */
  async getToken(): Promise<string> {
    const cached = this.#cached;
    if (cached && this.#now() < cached.expiresAt - TOKEN_REFRESH_MARGIN_MS) return cached.token;
    this.#inFlight ??= this.#refresh().finally(() => {
      this.#inFlight = undefined;
    });
    return (await this.#inFlight).token;
  }

  /** The API refused a token: drop it and re-read the secret before the next one. */
  invalidate(): void {
    this.#cached = undefined;
    this.#rereadSecret = true;
  }

  instanceUrl(): string | undefined {
    return this.#cached?.instanceUrl;
  }

  async #refresh(): Promise<CachedToken> {
    const force = this.#rereadSecret;
    this.#rereadSecret = false;
    try {
      this.#cached = await this.#request(force);
    } catch (error) {
      // Refused with the cached secret: read it again (it may just have rotated) and try once more.
      if (!(error instanceof CrmCredentialsError) || force) throw error;
      this.#cached = await this.#request(true);
    }
    return this.#cached;
  }

  async #request(forceRefresh: boolean): Promise<CachedToken> {
    const { secrets, secretId, flavour } = this.#options;
    const secret = await secrets.get(secretId, { forceRefresh });
    const clientId = requireSecretString(secret, secretId, 'clientId');
    const clientSecret = requireSecretString(secret, secretId, 'clientSecret');
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret });
    let url: string;
    if (flavour === 'salesforce') {
      url = tokenEndpoint(this.#options, { loginUrl: this.#options.tokenUrl ? '' : requireSecretString(secret, secretId, 'loginUrl') });
    } else {
      url = tokenEndpoint(this.#options, { tenantId: requireSecretString(secret, secretId, 'tenantId') });
      form.set('scope', `${(this.#options.resourceUrl ?? '').replace(/\/+$/, '')}/.default`);
    }
    let answer;
    try {
      answer = await exchange(
        this.#options.fetch ?? fetch,
        url,
        { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: form.toString() },
        this.#options.timeoutMs ?? 5_000,
      );
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      throw new CrmTokenEndpointError(timedOut ? 'The CRM token endpoint did not answer in time' : 'The CRM token endpoint could not be reached', undefined, timedOut);
    }
    const { status } = answer.response;
    // Only the OAuth error code is kept: descriptions may echo what was sent.
    const oauthError = readOAuthError(answer.text);
    if (status === 400 || status === 401) {
      throw new CrmCredentialsError(`The CRM token endpoint refused the credentials (${status}${oauthError ? ` ${oauthError}` : ''})`, status);
    }
    if (status !== 200) throw new CrmTokenEndpointError(`The CRM token endpoint answered ${status}`, status);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(answer.text) as Record<string, unknown>;
    } catch {
      throw new CrmTokenEndpointError('The CRM token endpoint answered something other than JSON', status);
    }
    const token = body['access_token'];
    if (typeof token !== 'string' || token === '') throw new CrmTokenEndpointError('The CRM token endpoint answered without an access token', status);
    const expiresIn = Number(body['expires_in']);
    const lifetimeMs = Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn * 1000 : (this.#options.defaultLifetimeMs ?? 30 * 60_000);
    const instanceUrl = typeof body['instance_url'] === 'string' ? body['instance_url'] : undefined;
    return { token, expiresAt: this.#now() + lifetimeMs, ...(instanceUrl ? { instanceUrl } : {}) };
  }
}

function readOAuthError(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const code = body['error'];
    return typeof code === 'string' && /^[a-z_]{1,40}$/.test(code) ? code : undefined;
  } catch {
    return undefined;
  }
}

/** How a static-token provider is built. */
export interface SecretTokenOptions {
  secrets: SecretCache;
  secretId: string;
  /** The secret key holding the token (`accessToken` for HubSpot, `apiToken` for `rest`). */
  key: string;
}

/**
 * A token kept in the secret itself (HubSpot's private app token). Caching and single flight
 * come from the secret cache; after a refusal the next call re-reads the secret.
 */
export class SecretTokenProvider implements CrmTokenSource {
  readonly #options: SecretTokenOptions;
  #reread = false;

  constructor(options: SecretTokenOptions) {
    this.#options = options;
  }

  async getToken(): Promise<string> {
    const forceRefresh = this.#reread;
    const secret = await this.#options.secrets.get(this.#options.secretId, { forceRefresh });
    if (forceRefresh) this.#reread = false;
    return requireSecretString(secret, this.#options.secretId, this.#options.key);
  }

  invalidate(): void {
    this.#reread = true;
  }

  instanceUrl(): string | undefined {
    return undefined;
  }
}
