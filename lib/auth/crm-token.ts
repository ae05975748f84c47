/**
 * The CRM's static API token (docs/api.md section 6), read from its credentials secret
 * (`apiToken`, section 7) through the shared secret cache.
 */
import { requireSecretString } from './secret-cache.ts';
import type { SecretCache, SecretValue } from './secret-cache.ts';
import { replacementAfterRefusal } from './rotation.ts';
import type { TokenProvider } from './types.ts';

/** How a `CrmTokenProvider` is built. */
export interface CrmTokenProviderOptions {
  secrets: SecretCache;
  /** Secret holding `apiToken` (`CRM_CREDENTIALS_SECRET_ID`). */
  secretId: string;
}

/** Refused tokens remembered with their replacement (a rotation needs one; a few spare). */
const MAX_REMEMBERED_REFUSALS = 8;

/**
 * Gives the CRM client its bearer token. Caching comes from the secret cache (its TTL).
 *
 * Rotation (docs/api.md section 7): after the CRM refuses a token (401), invalidate() starts
 * one re-read, forced past the cache, of AWSCURRENT and AWSPENDING
 * (`replacementAfterRefusal`), which every concurrent caller shares: getToken() waits for
 * it. The re-read AWSCURRENT is used when it differs from the refused token; otherwise
 * AWSPENDING, when a rotation has one (the CRM may already accept only the new token
 * while AWSCURRENT still holds the old one). The refused token is remembered with its
 * replacement, so a cache (or a late read) still serving it cannot hand it out again, and
 * a late invalidate() naming it starts nothing: a burst of 401s costs one re-read.
 */
export class CrmTokenProvider implements TokenProvider {
  readonly #secrets: SecretCache;
  readonly #secretId: string;
  /** Refused token -> the token found to replace it. */
  readonly #replacements = new Map<string, string>();
  #rereading: Promise<void> | undefined;
  /** The token most recently handed out (what a 401 most likely refused). */
  #lastToken: string | undefined;

  constructor(options: CrmTokenProviderOptions) {
    this.#secrets = options.secrets;
    this.#secretId = options.secretId;
  }

  /** The token to send now: AWSCURRENT's `apiToken`, or the replacement found after a refusal. */
  async getToken(): Promise<string> {
    // Callers that arrive during a re-read follow it rather than the refused token.
    if (this.#rereading) await this.#rereading;
    // The cache may still serve a refused token (AWSCURRENT has not moved yet, or a read
    // sent before it moved is answered late): its replacement stands in for it.
    let token = this.#apiToken(await this.#secrets.get(this.#secretId));
    for (let hops = 0; hops < MAX_REMEMBERED_REFUSALS && this.#replacements.has(token); hops += 1) {
      token = this.#replacements.get(token) as string;
    }
    this.#lastToken = token;
    return token;
  }

  /** The CRM refused `rejectedToken` (default: the last token handed out): re-read the secret once. */
  invalidate(rejectedToken?: string): void {
    // One re-read at a time serves every refusal; a token already replaced needs none.
    if (this.#rereading || (rejectedToken !== undefined && this.#replacements.has(rejectedToken))) return;
    const refused = rejectedToken ?? this.#lastToken;
    const rereading = this.#reread(refused).finally(() => {
      if (this.#rereading === rereading) this.#rereading = undefined;
    });
    // A failed read reaches the callers waiting in getToken(); the stored promise must not
    // count as unhandled when nobody waits.
    rereading.catch(() => undefined);
    this.#rereading = rereading;
  }

  async #reread(refused: string | undefined): Promise<void> {
    const replacement = await replacementAfterRefusal(this.#secrets, this.#secretId, (secret) => refused === undefined || this.#apiToken(secret) !== refused);
    const token = replacement ? this.#apiToken(replacement.secret) : refused;
    if (refused !== undefined && token !== undefined && token !== refused) {
      this.#replacements.delete(refused);
      this.#replacements.set(refused, token);
      // A token that replaced another is no longer refused, even if it once was.
      this.#replacements.delete(token);
      while (this.#replacements.size > MAX_REMEMBERED_REFUSALS) {
        this.#replacements.delete(this.#replacements.keys().next().value as string);
      }
    }
    this.#lastToken = token;
  }

  #apiToken(secret: SecretValue): string {
    return requireSecretString(secret, this.#secretId, 'apiToken');
  }
}
