/**
 * Signing secrets across a rotation, against the local Secrets Manager (real SDK client,
 * PutSecretValue moving AWSCURRENT to AWSPREVIOUS as AWS does).
 */
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SecretCache } from '#lib/auth';
import { SigningSecrets, signPayload } from '#lib/webhook';
import { startLocalSecretsManager, type LocalSecretsManager } from '../../../../local/secrets-manager.ts';

const SECRET_ID = 'genesys-guest-sync/test/webhook-signing-secret';
const BODY = Buffer.from('{"event":"guest.session.attributes.updated"}');

let local: LocalSecretsManager;
let client: SecretsManagerClient;
let clock: number;
const reads = (): number => local.reads()[SECRET_ID] ?? 0;
const rotate = (signingSecret: string) =>
  client.send(new PutSecretValueCommand({ SecretId: SECRET_ID, SecretString: JSON.stringify({ signingSecret }) }));
const signingSecrets = (minRefreshIntervalMs = 5_000) =>
  new SigningSecrets({ cache: new SecretCache({ client, ttlMs: 300_000, now: () => clock }), secretId: SECRET_ID, minRefreshIntervalMs, now: () => clock });

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

    // Act
    for (let i = 0; i < 20; i += 1) await secrets.verify(signPayload(`forged-${i}`, BODY), BODY);
    const afterBurst = reads();
    clock += 5_000;
    await secrets.verify(signPayload('forged-late', BODY), BODY);

    // Assess: one fresh read of AWSCURRENT for the burst (there is no AWSPREVIOUS yet), one more after the interval.
    expect(afterBurst - before).toBe(1);
    expect(reads() - afterBurst).toBe(1);
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
