/**
 * The CRM's static API token (contract section 5), read from its credentials secret
 * (`apiToken`, section 6) through the shared secret cache.
 */
import { requireSecretString } from './secret-cache.ts';
import type { SecretCache } from './secret-cache.ts';
import type { TokenProvider } from './types.ts';

/** How a `CrmTokenProvider` is built. */
export interface CrmTokenProviderOptions {
  secrets: SecretCache;
  /** Secret holding `apiToken` (`CRM_CREDENTIALS_SECRET_ID`). */
  secretId: string;
}

/**
 * Gives the CRM client its bearer token. Caching and single flight come from the secret
 * cache; after the CRM answers 401, invalidate() makes the next call re-read the secret.
 */
export class CrmTokenProvider implements TokenProvider {
  readonly #secrets: SecretCache;
  readonly #secretId: string;
  #reread = false;

  constructor(options: CrmTokenProviderOptions) {
    this.#secrets = options.secrets;
    this.#secretId = options.secretId;
  }

  /** The `apiToken` of the CRM secret (cached per the secret cache's TTL). */
  async getToken(): Promise<string> {
    const forceRefresh = this.#reread;
    const secret = await this.#secrets.get(this.#secretId, { forceRefresh });
    // Concurrent forced callers share one read; the first to finish ends the forced mode.
    if (forceRefresh) this.#reread = false;
    return requireSecretString(secret, this.#secretId, 'apiToken');
  }

  /** The token was rejected: the next getToken() re-reads the secret (it may have rotated). */
  invalidate(): void {
    this.#reread = true;
  }
}
