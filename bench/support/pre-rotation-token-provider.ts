/**
 * The Genesys token provider as it was before rotation handling (lib/auth/genesys-token.ts
 * at commit 7dba3f7), so bench/rotation.ts can show the same rotation against both: a
 * refusal of cached credentials is not retried, and callers waiting on a request that
 * invalidate() replaced still get its failure. Its caching and single flight are kept as
 * they were; the token request itself (reading the secret, the exchange, its checks) did
 * not change with rotation, so it is the library's `requestGenesysToken`.
 */
import type { TokenProvider } from '#lib/auth';
import { genesysCredentials, genesysTokenEndpoint, requestGenesysToken } from '#lib/auth/genesys-token.ts';
import type { GenesysToken, GenesysTokenEndpoint, GenesysTokenProviderOptions } from '#lib/auth/genesys-token.ts';

/** A request for a token; `fresh` when it re-reads the credentials (started after invalidate()). */
type Flight = { promise: Promise<string>; fresh: boolean };

/**
 * The shared Genesys token source: one token per container, renewed 60 s before expiry,
 * one token request however many callers wait for it, and credentials re-read after a 401.
 */
export class PreRotationTokenProvider implements TokenProvider {
  readonly #endpoint: GenesysTokenEndpoint;
  #token: GenesysToken | undefined;
  #flight: Flight | undefined;
  #rereadCredentials = false;

  constructor(options: GenesysTokenProviderOptions) {
    this.#endpoint = genesysTokenEndpoint(options);
  }

  /** A cached token, or a new one that every concurrent caller shares. */
  getToken(): Promise<string> {
    if (this.#token && this.#endpoint.now() < this.#token.refreshAt) return Promise.resolve(this.#token.value);
    if (this.#flight) return this.#flight.promise;

    const fresh = this.#rereadCredentials;
    const promise = this.#requestToken(fresh).then(
      (token) => {
        if (this.#flight?.promise === promise) {
          this.#flight = undefined;
          if (fresh) this.#rereadCredentials = false;
          if (this.#endpoint.now() < token.refreshAt) this.#token = token;
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

  async #requestToken(rereadCredentials: boolean): Promise<GenesysToken> {
    const { secrets, secretId } = this.#endpoint;
    const credentials = genesysCredentials(await secrets.get(secretId, { forceRefresh: rereadCredentials }), secretId);
    return requestGenesysToken(this.#endpoint, credentials);
  }
}
