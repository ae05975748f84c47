/**
 * The signing secrets a webhook delivery is checked against, cached per container.
 *
 * A rotation must be honoured before the cache expires, yet unauthenticated requests must
 * neither hammer Secrets Manager nor be able to hide a rotation. The design:
 *
 * - Every delivery carries an arrival ticket (a counter taken before anything is read).
 * - A well-formed signature that matches no cached version (AWSCURRENT, AWSPREVIOUS, and
 *   AWSPENDING while a rotation installs it) waits for a re-read that STARTED AFTER its own
 *   arrival, then is checked again. A re-read sent after the delivery arrived sees every
 *   version stored before the sender signed with it, so a genuine rotation can never stay
 *   unseen, however many forged requests come first.
 * - Re-reads are single-flight and spaced at least `minRefreshIntervalMs` apart: every
 *   delivery that needs one shares the next one. A flood of forged signatures therefore
 *   costs at most one re-read (three GetSecretValue calls) per interval per container, and
 *   a forged or genuine delivery waits at most about one interval plus one read.
 * - A missing or malformed header is refused at once, with no re-read.
 *
 * Hand-written: no library offers "wait for a read started after me" coalescing.
 */
import { getWebhookSigningSecrets, sharedSecretCache, type SecretCache } from '#lib/auth';
import type { Config } from '#lib/config';
import { isWellFormedSignature, verifyLabelled, type SignatureMatch } from './signature.ts';

/** Re-reads after a mismatch are at least this far apart; also about the longest a mismatch waits. */
export const DEFAULT_REFRESH_INTERVAL_MS = 1_000;

/** Options of `SigningSecrets`. */
export interface SigningSecretsOptions {
  cache: SecretCache;
  secretId: string;
  minRefreshIntervalMs?: number;
  now?: () => number;
  /** How waits between re-reads are taken (default a timer); injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
}

interface Refresh {
  /** Deliveries with a ticket up to this one arrived before the re-read was sent. */
  covers: number;
  promise: Promise<void>;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Verifies deliveries against the current, previous and (during a rotation) pending secret versions. */
export class SigningSecrets {
  readonly #cache: SecretCache;
  readonly #secretId: string;
  readonly #minRefreshIntervalMs: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  #arrivals = 0;
  /** Highest ticket a finished re-read covers. */
  #covered = 0;
  #lastStart = Number.NEGATIVE_INFINITY;
  /** The next re-read, waiting for its slot or in flight. */
  #next: Refresh | undefined;

  constructor(options: SigningSecretsOptions) {
    this.#cache = options.cache;
    this.#secretId = options.secretId;
    this.#minRefreshIntervalMs = Math.max(0, options.minRefreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS);
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? defaultSleep;
  }

  /** The secret these versions belong to. */
  get secretId(): string {
    return this.#secretId;
  }

  /** The version the signature matched, or undefined (after a re-read sent since it arrived, when well-formed). */
  async verify(header: string | undefined, rawBody: Buffer): Promise<SignatureMatch | undefined> {
    this.#arrivals += 1;
    const ticket = this.#arrivals;
    const cached = verifyLabelled(header, rawBody, await this.#versions(false));
    if (cached !== undefined || !isWellFormedSignature(header)) return cached;
    await this.#rereadCovering(ticket);
    return verifyLabelled(header, rawBody, await this.#versions(false));
  }

  /** Waits until a re-read sent after delivery `ticket` arrived has finished. */
  async #rereadCovering(ticket: number): Promise<void> {
    while (this.#covered < ticket) {
      // A re-read not yet sent will cover this delivery; one already sent covers it only
      // if it was sent after the delivery arrived.
      const next = this.#next && this.#next.covers >= ticket ? this.#next : (this.#next ?? this.#schedule());
      await next.promise;
    }
  }

  /** Schedules the next re-read in its slot; its `covers` is fixed when it is sent. */
  #schedule(): Refresh {
    const refresh: Refresh = { covers: Number.POSITIVE_INFINITY, promise: Promise.resolve() };
    refresh.promise = (async () => {
      try {
        const wait = this.#lastStart + this.#minRefreshIntervalMs - this.#now();
        if (wait > 0) await this.#sleep(wait);
        this.#lastStart = this.#now();
        refresh.covers = this.#arrivals;
        await this.#versions(true);
        this.#covered = Math.max(this.#covered, refresh.covers);
      } finally {
        if (this.#next === refresh) this.#next = undefined;
      }
    })();
    this.#next = refresh;
    return refresh;
  }

  /** AWSCURRENT and AWSPREVIOUS (through the shared helper) and, when one exists, AWSPENDING. */
  async #versions(forceRefresh: boolean): Promise<Array<{ secret: string; version: SignatureMatch }>> {
    const [[current, previous], pending] = await Promise.all([
      getWebhookSigningSecrets(this.#cache, this.#secretId, { forceRefresh }),
      // Only a rotation in progress has one; an unreadable pending stage must not block
      // verification against the versions that matter most.
      this.#cache.getOptional(this.#secretId, { versionStage: 'AWSPENDING', forceRefresh }).catch(() => undefined),
    ]);
    const versions: Array<{ secret: string; version: SignatureMatch }> = [{ secret: current as string, version: 'current' }];
    if (previous !== undefined) versions.push({ secret: previous, version: 'previous' });
    const pendingSecret = pending?.['signingSecret'];
    if (typeof pendingSecret === 'string' && pendingSecret.trim() !== '' && pendingSecret !== current) {
      versions.push({ secret: pendingSecret, version: 'pending' });
    }
    return versions;
  }
}

let shared: SigningSecrets | undefined;

/** The container's signing secrets on the shared secret cache (reused while warm). */
export function sharedSigningSecrets(config: Pick<Config, 'runtime' | 'webhook'>): SigningSecrets {
  const { secretId } = config.webhook;
  if (shared?.secretId !== secretId) shared = new SigningSecrets({ cache: sharedSecretCache(config), secretId });
  return shared;
}
