import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SecretCache, SecretError } from '#lib/auth';
import { everythingLogged, notFound, secretOutput, throttled } from './support.ts';
import { rejectionOf } from '#test/support/rejection.ts';

const secretsManager = mockClient(SecretsManagerClient);
const SECRET_ID = 'guest-sync/genesys';
const reads = (): number => secretsManager.commandCalls(GetSecretValueCommand).length;

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => void (time += ms) };
}

describe('SecretCache', () => {
  beforeEach(() => {
    secretsManager.reset();
  });

  it('reads a JSON secret once and serves it from the cache afterwards', async () => {
    // Prepare
    secretsManager.on(GetSecretValueCommand).resolves(secretOutput({ clientId: 'id', clientSecret: 'pw' }));
    const cache = new SecretCache();

    // Act
    const first = await cache.get(SECRET_ID);
    const second = await cache.get(SECRET_ID);

    // Assess
    expect(first).toEqual({ clientId: 'id', clientSecret: 'pw' });
    expect(second).toEqual(first);
    expect(reads()).toBe(1);
    expect(secretsManager.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: SECRET_ID,
      VersionStage: 'AWSCURRENT',
    });
  });

  it('re-reads the secret once the TTL has passed', async () => {
    // Prepare
    const clock = manualClock();
    secretsManager
      .on(GetSecretValueCommand)
      .resolvesOnce(secretOutput({ apiToken: 'old' }))
      .resolves(secretOutput({ apiToken: 'new' }));
    const cache = new SecretCache({ ttlMs: 60_000, now: clock.now });
    await cache.get(SECRET_ID);

    // Act
    clock.advance(59_999);
    const beforeExpiry = await cache.get(SECRET_ID);
    clock.advance(1);
    const atExpiry = await cache.get(SECRET_ID);

    // Assess
    expect(beforeExpiry).toEqual({ apiToken: 'old' });
    expect(atExpiry).toEqual({ apiToken: 'new' });
    expect(reads()).toBe(2);
  });

  it('lets 100 concurrent callers share one GetSecretValue call', async () => {
    // Prepare
    secretsManager.on(GetSecretValueCommand).resolves(secretOutput({ salt: 'pepper' }));
    const cache = new SecretCache();

    // Act
    const values = await Promise.all(Array.from({ length: 100 }, () => cache.get(SECRET_ID)));

    // Assess
    expect(reads()).toBe(1);
    expect(new Set(values.map((v) => v['salt']))).toEqual(new Set(['pepper']));
  });

  it('bypasses the cache on forceRefresh and refreshes it for later callers', async () => {
    // Prepare
    secretsManager
      .on(GetSecretValueCommand)
      .resolvesOnce(secretOutput({ apiToken: 'before-rotation' }))
      .resolves(secretOutput({ apiToken: 'after-rotation' }));
    const cache = new SecretCache();
    await cache.get(SECRET_ID);

    // Act
    const forced = await cache.get(SECRET_ID, { forceRefresh: true });
    const afterwards = await cache.get(SECRET_ID);

    // Assess
    expect(forced).toEqual({ apiToken: 'after-rotation' });
    expect(afterwards).toEqual({ apiToken: 'after-rotation' });
    expect(reads()).toBe(2);
  });

  it('never answers a forced read with a read sent before it (that one may predate a rotation)', async () => {
    // Prepare
    secretsManager
      .on(GetSecretValueCommand)
      .resolvesOnce(secretOutput({ apiToken: 'before-rotation' }))
      .resolves(secretOutput({ apiToken: 'after-rotation' }));
    const cache = new SecretCache();

    // Act
    const plain = cache.get(SECRET_ID);
    const forced = cache.get(SECRET_ID, { forceRefresh: true });
    const [plainValue, forcedValue] = await Promise.all([plain, forced]);
    const afterwards = await cache.get(SECRET_ID);

    // Assess
    expect(plainValue).toEqual({ apiToken: 'before-rotation' });
    expect(forcedValue).toEqual({ apiToken: 'after-rotation' });
    expect(afterwards).toEqual({ apiToken: 'after-rotation' });
    expect(reads()).toBe(2);
  });

  it('caches AWSCURRENT and AWSPREVIOUS separately', async () => {
    // Prepare
    secretsManager
      .on(GetSecretValueCommand, { SecretId: SECRET_ID, VersionStage: 'AWSCURRENT' })
      .resolves(secretOutput({ signingSecret: 'current' }))
      .on(GetSecretValueCommand, { SecretId: SECRET_ID, VersionStage: 'AWSPREVIOUS' })
      .resolves(secretOutput({ signingSecret: 'previous' }, 'AWSPREVIOUS'));
    const cache = new SecretCache();

    // Act
    const current = await cache.get(SECRET_ID);
    const previous = await cache.get(SECRET_ID, { versionStage: 'AWSPREVIOUS' });
    await cache.get(SECRET_ID);
    await cache.get(SECRET_ID, { versionStage: 'AWSPREVIOUS' });

    // Assess
    expect(current).toEqual({ signingSecret: 'current' });
    expect(previous).toEqual({ signingSecret: 'previous' });
    expect(reads()).toBe(2);
  });

  describe('a version stage that does not exist', () => {
    it('is undefined for getOptional, and remembered for the TTL', async () => {
      // Prepare
      secretsManager.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' }).rejects(notFound());
      const cache = new SecretCache();

      // Act
      const first = await cache.getOptional(SECRET_ID, { versionStage: 'AWSPREVIOUS' });
      const second = await cache.getOptional(SECRET_ID, { versionStage: 'AWSPREVIOUS' });

      // Assess
      expect(first).toBeUndefined();
      expect(second).toBeUndefined();
      expect(reads()).toBe(1);
    });

    it('is a not_found SecretError for get, which re-checks instead of trusting the remembered absence', async () => {
      // Prepare
      secretsManager.on(GetSecretValueCommand).rejects(notFound('AWSCURRENT'));
      const cache = new SecretCache();
      await cache.getOptional(SECRET_ID);

      // Act
      const error = await rejectionOf(cache.get(SECRET_ID));

      // Assess
      expect(error).toBeInstanceOf(SecretError);
      expect(error).toMatchObject({ reason: 'not_found', secretId: SECRET_ID });
      expect(error.message).toContain(SECRET_ID);
      expect(reads()).toBe(2);
    });
  });

  it('does not cache a failed read: every waiter gets the error and the next call retries', async () => {
    // Prepare
    secretsManager
      .on(GetSecretValueCommand)
      .rejectsOnce(throttled())
      .resolves(secretOutput({ apiToken: 'ok' }));
    const cache = new SecretCache();

    // Act
    const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => cache.get(SECRET_ID)));
    const retried = await cache.get(SECRET_ID);

    // Assess
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
    const reason = (outcomes[0] as PromiseRejectedResult).reason as SecretError;
    expect(reason).toBeInstanceOf(SecretError);
    expect(reason).toMatchObject({ reason: 'read_failed', status: 503 });
    expect(reason.message).toContain(SECRET_ID);
    expect(reason.message).toContain('ThrottlingException');
    expect(retried).toEqual({ apiToken: 'ok' });
    expect(reads()).toBe(2);
  });

  describe.each([
    { what: 'not JSON', secretString: 'hunter2-plain-text-secret' },
    { what: 'a JSON array', secretString: '["hunter2-plain-text-secret"]' },
    { what: 'a JSON string', secretString: '"hunter2-plain-text-secret"' },
    { what: 'JSON null', secretString: 'null' },
  ])('a secret string that is $what', ({ secretString }) => {
    it('is a malformed SecretError that names the secret id but never its value', async () => {
      // Prepare
      secretsManager.on(GetSecretValueCommand).resolves({ SecretString: secretString });
      const cache = new SecretCache();

      // Act
      const error = await rejectionOf(cache.get(SECRET_ID));

      // Assess
      expect(error).toBeInstanceOf(SecretError);
      expect(error).toMatchObject({ reason: 'malformed', status: 500 });
      expect(error.message).toContain(SECRET_ID);
      expect(everythingLogged(error)).not.toContain('hunter2');
    });
  });

  it('reports a binary-only secret as malformed', async () => {
    // Prepare
    secretsManager.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2, 3]) });
    const cache = new SecretCache();

    // Act
    const error = await rejectionOf(cache.get(SECRET_ID));

    // Assess
    expect(error).toMatchObject({ reason: 'malformed' });
    expect(error.message).toMatch(/SecretString/);
  });

  it('forgets one secret or all secrets on invalidate', async () => {
    // Prepare
    secretsManager
      .on(GetSecretValueCommand, { SecretId: 'a' })
      .resolves(secretOutput({ v: 'a' }))
      .on(GetSecretValueCommand, { SecretId: 'b' })
      .resolves(secretOutput({ v: 'b' }));
    const cache = new SecretCache();
    await Promise.all([cache.get('a'), cache.get('b')]);

    // Act
    cache.invalidate('a');
    await Promise.all([cache.get('a'), cache.get('b')]);
    const afterOne = reads();
    cache.invalidate();
    await Promise.all([cache.get('a'), cache.get('b')]);

    // Assess
    expect(afterOne).toBe(3);
    expect(reads()).toBe(5);
  });

  it('does not let a read started before invalidate fill the cache afterwards', async () => {
    // Prepare
    secretsManager
      .on(GetSecretValueCommand)
      .resolvesOnce(secretOutput({ apiToken: 'stale' }))
      .resolves(secretOutput({ apiToken: 'fresh' }));
    const cache = new SecretCache();

    // Act
    const started = cache.get(SECRET_ID);
    cache.invalidate(SECRET_ID);
    const afterInvalidate = await cache.get(SECRET_ID);
    await started;
    const later = await cache.get(SECRET_ID);

    // Assess
    expect(afterInvalidate).toEqual({ apiToken: 'fresh' });
    expect(later).toEqual({ apiToken: 'fresh' });
    expect(reads()).toBe(2);
  });

  it('hands out values callers cannot change for each other', async () => {
    // Prepare
    secretsManager.on(GetSecretValueCommand).resolves(secretOutput({ salt: 'pepper' }));
    const cache = new SecretCache();
    const value = (await cache.get(SECRET_ID)) as Record<string, unknown>;

    // Act
    const mutate = (): void => {
      value['salt'] = 'changed';
    };

    // Assess
    expect(mutate).toThrow(TypeError);
    expect(await cache.get(SECRET_ID)).toEqual({ salt: 'pepper' });
  });

  it('does not cache at all with a TTL of 0', async () => {
    // Prepare
    secretsManager.on(GetSecretValueCommand).resolves(secretOutput({ salt: 'pepper' }));
    const cache = new SecretCache({ ttlMs: 0 });

    // Act
    await cache.get(SECRET_ID);
    await cache.get(SECRET_ID);

    // Assess
    expect(reads()).toBe(2);
  });
});
