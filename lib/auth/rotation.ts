/**
 * What a token provider does when an upstream refuses the credentials it holds: one
 * re-read of the secret, forced past the cache, that can see a rotation in its gap.
 */
import type { SecretCache, SecretValue } from './secret-cache.ts';

/** A usable replacement for refused credentials, and the AWSCURRENT value seen with it. */
export interface Replacement {
  secret: SecretValue;
  stage: 'AWSCURRENT' | 'AWSPENDING';
  /** AWSCURRENT as re-read (equal to `secret` when the stage is AWSCURRENT). */
  current: SecretValue;
}

/**
 * Re-reads AWSCURRENT and AWSPENDING (forced, together) after a refusal and answers the
 * first whose credentials differ from the refused ones (`differs`), AWSCURRENT first.
 *
 * Why AWSPENDING: an AWS rotation stores the new value as AWSPENDING, installs it upstream
 * (which may then accept only it), and only then moves AWSCURRENT. In that gap the refused
 * value is still AWSCURRENT, and the pending one is the value the upstream now expects.
 *
 * Why a third read: the two reads run in parallel, so AWSCURRENT may be read just before
 * it moves and AWSPENDING just after it is removed. Both reads were sent after the refusal,
 * and the upstream refuses the old value only once AWSPENDING exists, so "pending absent"
 * means AWSCURRENT has moved by then: one more AWSCURRENT read then sees the new value.
 * Answers undefined when no other value exists (the refusal is then a real credentials
 * problem, and retrying would only repeat it).
 */
export async function replacementAfterRefusal(
  secrets: SecretCache,
  secretId: string,
  differs: (secret: SecretValue) => boolean,
): Promise<Replacement | undefined> {
  const [current, pending] = await Promise.all([
    secrets.get(secretId, { forceRefresh: true }),
    secrets.getOptional(secretId, { versionStage: 'AWSPENDING', forceRefresh: true }),
  ]);
  if (differs(current)) return { secret: current, stage: 'AWSCURRENT', current };
  if (pending !== undefined) return differs(pending) ? { secret: pending, stage: 'AWSPENDING', current } : undefined;
  const again = await secrets.get(secretId, { forceRefresh: true });
  return differs(again) ? { secret: again, stage: 'AWSCURRENT', current: again } : undefined;
}
