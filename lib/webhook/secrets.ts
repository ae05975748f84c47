/**
 * The signing secrets a webhook delivery is checked against, cached per container, with
 * one twist: a signature that matches no cached version triggers one fresh read (at most
 * every few seconds), so a rotation by `npm run register-webhook` is honoured at once
 * instead of after the cache lifetime, while bad requests cannot hammer Secrets Manager.
 */
import { getWebhookSigningSecrets, sharedSecretCache, type SecretCache } from '#lib/auth';
import { verifySignature, type SignatureMatch } from './signature.ts';

/** Fresh reads after a mismatch are at most this frequent per container. */
export const DEFAULT_REFRESH_INTERVAL_MS = 5_000;

/** Options of `SigningSecrets`. */
export interface SigningSecretsOptions {
  cache: SecretCache;
  secretId: string;
  minRefreshIntervalMs?: number;
  now?: () => number;
}

/** Verifies deliveries against the current and previous signing secret versions. */
export class SigningSecrets {
  readonly #cache: SecretCache;
  readonly #secretId: string;
  readonly #minRefreshIntervalMs: number;
  readonly #now: () => number;
  #lastRefresh = Number.NEGATIVE_INFINITY;

  constructor(options: SigningSecretsOptions) {
    this.#cache = options.cache;
    this.#secretId = options.secretId;
    this.#minRefreshIntervalMs = options.minRefreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS;
    this.#now = options.now ?? Date.now;
  }

  /** The secret these versions belong to. */
  get secretId(): string {
    return this.#secretId;
  }

  /** The version the signature matched, or undefined (after one fresh read, when allowed). */
  async verify(header: string | undefined, rawBody: Buffer): Promise<SignatureMatch | undefined> {
    const cached = verifySignature(header, rawBody, await getWebhookSigningSecrets(this.#cache, this.#secretId));
    if (cached !== undefined || header === undefined) return cached;
    if (this.#now() - this.#lastRefresh < this.#minRefreshIntervalMs) return undefined;
    this.#lastRefresh = this.#now();
    this.#cache.invalidate(this.#secretId);
    return verifySignature(header, rawBody, await getWebhookSigningSecrets(this.#cache, this.#secretId));
  }
}

let shared: SigningSecrets | undefined;

/** The container's signing secrets on the shared secret cache (reused while warm). */
export function sharedSigningSecrets(secretId: string): SigningSecrets {
  if (shared?.secretId !== secretId) shared = new SigningSecrets({ cache: sharedSecretCache(), secretId });
  return shared;
}
