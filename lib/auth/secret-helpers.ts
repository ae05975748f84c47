/**
 * Typed readers for the single-purpose secrets of docs/api.md section 7, on the shared cache.
 */
import { requireSecretString } from './secret-cache.ts';
import type { SecretCache } from './secret-cache.ts';

/**
 * The webhook signing secrets to try, current first: AWSCURRENT's `signingSecret` and,
 * when that version exists, AWSPREVIOUS's, so a rotation rejects no in-flight delivery.
 * The current one must be valid; an unusable previous one is skipped. `forceRefresh`
 * re-reads both past the cache (after a signature matched no cached version).
 */
export async function getWebhookSigningSecrets(
  cache: SecretCache,
  secretId: string,
  options: { forceRefresh?: boolean } = {},
): Promise<string[]> {
  const forceRefresh = options.forceRefresh === true;
  const [current, previous] = await Promise.all([
    cache.get(secretId, { versionStage: 'AWSCURRENT', forceRefresh }),
    cache.getOptional(secretId, { versionStage: 'AWSPREVIOUS', forceRefresh }),
  ]);
  const secrets = [requireSecretString(current, secretId, 'signingSecret')];
  const previousSecret = previous?.['signingSecret'];
  if (typeof previousSecret === 'string' && previousSecret.trim() !== '' && previousSecret !== secrets[0]) {
    secrets.push(previousSecret);
  }
  return secrets;
}

/** The identity-hash salt. There is never a default: a missing or empty salt is an error. */
export async function getIdentitySalt(cache: SecretCache, secretId: string): Promise<string> {
  const secret = await cache.get(secretId);
  return requireSecretString(secret, secretId, 'salt');
}
