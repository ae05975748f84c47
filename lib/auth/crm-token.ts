/**
 * The CRM's static API token (contract section 5), read from its credentials secret
 * (`apiToken`, section 7) through the shared secret cache.
 */
import { requireSecretString } from './secret-cache.ts';
import type { SecretCache, SecretValue } from './secret-cache.ts';
import type { TokenProvider } from './types.ts';

/** How a `CrmTokenProvider` is built. */
export interface CrmTokenProviderOptions {
  secrets: SecretCache;
  /** Secret holding `apiToken` (`CRM_CREDENTIALS_SECRET_ID`). */
  secretId: string;
}

/** A token chosen after a refusal, in use while the cache still serves the refused one. */
interface Override {
  token: string;
  /** The AWSCURRENT token that was refused; once the cache serves another, the override ends. */
  refusedCurrent: string;
}

/**
 * Gives the CRM client its bearer token. Caching comes from the secret cache (its TTL).
 *
 * Rotation (contract section 7): after the CRM refuses a token (401), invalidate() starts
 * one re-read, forced past the cache, of AWSCURRENT and AWSPENDING, which every concurrent
 * caller shares: getToken() waits for it. The re-read AWSCURRENT is used when it differs
 * from the refused token; otherwise AWSPENDING, when a rotation has one (the CRM may
 * already accept only the new token while AWSCURRENT still holds the old one). That choice
 * lasts while the cache keeps serving the refused AWSCURRENT. A late invalidate() naming a
 * token already replaced starts nothing, so a burst of 401s costs one re-read.
 */
export class CrmTokenProvider implements TokenProvider {
  readonly #secrets: SecretCache;
  readonly #secretId: string;
  #override: Override | undefined;
  #rereading: Promise<void> | undefined;
  /** The token most recently handed out (what a 401 most likely refused). */
  #lastToken: string | undefined;

  constructor(options: CrmTokenProviderOptions) {
    this.#secrets = options.secrets;
    this.#secretId = options.secretId;
  }

  /** The token to send now: AWSCURRENT's `apiToken`, or the replacement chosen after a refusal. */
  async getToken(): Promise<string> {
    // Callers that arrive during a re-read follow it rather than the refused token.
    if (this.#rereading) await this.#rereading;
    const current = this.#apiToken(await this.#secrets.get(this.#secretId));
    const override = this.#override;
    const token = override && override.refusedCurrent === current ? override.token : current;
    if (override && token === current) this.#override = undefined;
    this.#lastToken = token;
    return token;
  }

  /** The CRM refused `rejectedToken` (default: the last token handed out): re-read the secret once. */
  invalidate(rejectedToken?: string): void {
    if (this.#rereading) return;
    const refused = rejectedToken ?? this.#lastToken;
    if (rejectedToken !== undefined && this.#lastToken !== undefined && rejectedToken !== this.#lastToken) return;
    const rereading = this.#reread(refused).finally(() => {
      if (this.#rereading === rereading) this.#rereading = undefined;
    });
    // A failed read reaches the callers waiting in getToken(); the stored promise must not
    // count as unhandled when nobody waits.
    rereading.catch(() => undefined);
    this.#rereading = rereading;
  }

  async #reread(refused: string | undefined): Promise<void> {
    const [currentSecret, pendingSecret] = await Promise.all([
      this.#secrets.get(this.#secretId, { forceRefresh: true }),
      this.#secrets.getOptional(this.#secretId, { versionStage: 'AWSPENDING', forceRefresh: true }),
    ]);
    const current = this.#apiToken(currentSecret);
    const pendingToken = pendingSecret?.['apiToken'];
    const pending = typeof pendingToken === 'string' && pendingToken.trim() !== '' ? pendingToken : undefined;
    if (refused !== undefined && current === refused && pending !== undefined && pending !== refused) {
      this.#override = { token: pending, refusedCurrent: current };
      this.#lastToken = pending;
    } else {
      this.#override = undefined;
      this.#lastToken = current;
    }
  }

  #apiToken(secret: SecretValue): string {
    return requireSecretString(secret, this.#secretId, 'apiToken');
  }
}
