/**
 * Signing secrets across a rotation, against the local Secrets Manager (real SDK client,
 * PutSecretValue moving AWSCURRENT to AWSPREVIOUS as AWS does).
 */
import { DescribeSecretCommand, PutSecretValueCommand, SecretsManagerClient, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SecretCache } from '#lib/auth';
import { signPayload } from '#lib/webhook';
import { SigningSecrets } from '#lib/webhook/secrets.ts';
import { startLocalSecretsManager, type LocalSecretsManager } from '#local/secrets-manager.ts';

const SECRET_ID = 'genesys-guest-sync/test/webhook-signing-secret';
const BODY = Buffer.from('{"event":"guest.session.attributes.updated"}');

let local: LocalSecretsManager;
let client: SecretsManagerClient;
let clock: number;
const reads = (): number => local.reads()[SECRET_ID] ?? 0;
const rotate = (signingSecret: string) =>
  client.send(new PutSecretValueCommand({ SecretId: SECRET_ID, SecretString: JSON.stringify({ signingSecret }) }));
/** Waits between re-reads pass on the test's clock (and yield, as a timer would). */
const sleep = async (ms: number): Promise<void> => {
  clock += ms;
  await new Promise((resolve) => setImmediate(resolve));
};
const signingSecrets = (minRefreshIntervalMs = 5_000) =>
  new SigningSecrets({ cache: new SecretCache({ client, ttlMs: 300_000, now: () => clock }), secretId: SECRET_ID, minRefreshIntervalMs, now: () => clock, sleep });

beforeEach(async () => {
  local = await startLocalSecretsManager({ [SECRET_ID]: { signingSecret: 'secret-v1' } });
  client = new SecretsManagerClient({ region: 'us-east-1', endpoint: local.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  clock = Date.parse('2025-01-15T10:30:00Z');
});
afterEach(async () => {
  client.destroy();
  await local.close();
});

describe('SigningSecrets', () => {
  it('verifies from the cache while the secret does not change', async () => {
    // Prepare
    const secrets = signingSecrets();
    await secrets.verify(signPayload('secret-v1', BODY), BODY);
    const readsAfterFirst = reads();

    // Act
    const matches = await Promise.all([1, 2, 3].map(() => secrets.verify(signPayload('secret-v1', BODY), BODY)));

    // Assess
    expect(matches).toEqual(['current', 'current', 'current']);
    expect(reads()).toBe(readsAfterFirst);
  });

  it('honours a rotation at once: the new secret verifies, the old one still does as the previous version', async () => {
    // Prepare
    const secrets = signingSecrets();
    expect(await secrets.verify(signPayload('secret-v1', BODY), BODY)).toBe('current');
    await rotate('secret-v2');

    // Act
    const newSecret = await secrets.verify(signPayload('secret-v2', BODY), BODY);
    const oldSecret = await secrets.verify(signPayload('secret-v1', BODY), BODY);

    // Assess
    expect(newSecret).toBe('current');
    expect(oldSecret).toBe('previous');
  });

  it('does not accept a version older than the previous one', async () => {
    // Prepare
    const secrets = signingSecrets();
    await rotate('secret-v2');
    await rotate('secret-v3');

    // Act
    const match = await secrets.verify(signPayload('secret-v1', BODY), BODY);

    // Assess
    expect(match).toBeUndefined();
  });

  it('re-reads Secrets Manager at most once per interval however many bad signatures arrive', async () => {
    // Prepare
    const secrets = signingSecrets(5_000);
    await secrets.verify(signPayload('secret-v1', BODY), BODY);
    const before = reads();
    const startedAt = clock;

    // Act: 20 concurrent forgeries, then 20 more one after another.
    const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => secrets.verify(signPayload(`forged-${i}`, BODY), BODY)));
    const afterBurst = reads();
    for (let i = 0; i < 20; i += 1) await secrets.verify(signPayload(`forged-late-${i}`, BODY), BODY);
    const intervals = (clock - startedAt) / 5_000;

    // Assess: one fresh read of AWSCURRENT (the only stage that exists) per re-read.
    expect(burst.every((match) => match === undefined)).toBe(true);
    expect(afterBurst - before).toBe(1);
    expect(reads() - before).toBeLessThanOrEqual(intervals + 1);
  });

  it('does not re-read for a malformed signature', async () => {
    // Prepare
    const secrets = signingSecrets();
    await secrets.verify(signPayload('secret-v1', BODY), BODY);
    const before = reads();

    // Act
    const matches = await Promise.all(['sha256=short', 'sha1=abc', 'garbage'].map((header) => secrets.verify(header, BODY)));

    // Assess
    expect(matches).toEqual([undefined, undefined, undefined]);
    expect(reads()).toBe(before);
  });

  it('accepts every genuine delivery after a rotation, however many forged signatures came first', async () => {
    // Prepare: a warm container, a flood of forgeries that keeps the re-read slot busy.
    const secrets = signingSecrets(5_000);
    await secrets.verify(signPayload('secret-v1', BODY), BODY);
    const before = reads();
    const startedAt = clock;
    const forged: Array<Promise<unknown>> = [];
    const flood = (n: number): void => {
      for (let i = 0; i < n; i += 1) forged.push(secrets.verify(signPayload(`forged-${forged.length}`, BODY), BODY));
    };
    flood(50);
    await new Promise((resolve) => setImmediate(resolve));
    flood(50);

    // Act: the secret rotates (the AWS way: pending, then current) amid the flood; the
    // sender signs with the new secret from then on.
    const pending = await client.send(
      new PutSecretValueCommand({ SecretId: SECRET_ID, SecretString: JSON.stringify({ signingSecret: 'secret-v2' }), VersionStages: ['AWSPENDING'] }),
    );
    flood(50);
    const whilePending = secrets.verify(signPayload('secret-v2', BODY), BODY);
    flood(50);
    const current = (await client.send(new DescribeSecretCommand({ SecretId: SECRET_ID }))).VersionIdsToStages ?? {};
    const oldVersion = Object.entries(current).find(([, stages]) => stages.includes('AWSCURRENT'))?.[0];
    await client.send(
      new UpdateSecretVersionStageCommand({ SecretId: SECRET_ID, VersionStage: 'AWSCURRENT', MoveToVersionId: pending.VersionId, RemoveFromVersionId: oldVersion }),
    );
    flood(50);
    const afterMove = secrets.verify(signPayload('secret-v2', BODY), BODY);
    const oldStillAccepted = secrets.verify(signPayload('secret-v1', BODY), BODY);
    flood(50);
    const genuine = await Promise.all([whilePending, afterMove, oldStillAccepted]);
    const forgedOutcomes = await Promise.all(forged);
    const intervals = (clock - startedAt) / 5_000;

    // Assess
    expect(genuine.map((match) => match !== undefined)).toEqual([true, true, true]);
    expect(forgedOutcomes.every((match) => match === undefined)).toBe(true);
    // Each re-read reads at most three stages; there is at most one re-read per interval.
    expect(reads() - before).toBeLessThanOrEqual(3 * (intervals + 1));
  });

  it('cannot be kept from seeing a rotation by forged signatures that used up the re-read just before it', async () => {
    // Prepare: forgeries trigger a re-read right before the secret rotates.
    const secrets = signingSecrets(5_000);
    await secrets.verify(signPayload('secret-v1', BODY), BODY);
    await Promise.all(Array.from({ length: 10 }, (_, i) => secrets.verify(signPayload(`forged-${i}`, BODY), BODY)));

    // Act
    await rotate('secret-v2');
    const outcomes = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => secrets.verify(signPayload(`forged-after-${i}`, BODY), BODY)),
      secrets.verify(signPayload('secret-v2', BODY), BODY),
    ]);

    // Assess
    expect(outcomes.at(-1)).toBe('current');
    expect(outcomes.slice(0, -1).every((match) => match === undefined)).toBe(true);
  });

  it('does not re-read for a request without a signature', async () => {
    // Prepare
    const secrets = signingSecrets();
    await secrets.verify(signPayload('secret-v1', BODY), BODY);
    const before = reads();

    // Act
    const match = await secrets.verify(undefined, BODY);

    // Assess
    expect(match).toBeUndefined();
    expect(reads()).toBe(before);
  });
});
