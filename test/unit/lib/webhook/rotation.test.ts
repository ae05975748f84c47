/**
 * Rotating the webhook signing secret against the local Secrets Manager (real SDK client):
 * what is stored, in which order, and what is left when the new secret cannot be installed.
 */
import { DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RotationAbandonedError, RotationError, rotateSigningSecret } from '#lib/webhook';
import { generateSigningSecret } from '#lib/webhook/rotation.ts';
import { startLocalSecretsManager, type LocalSecretsManager } from '#local/secrets-manager.ts';

const SECRET_ID = 'genesys-guest-sync/test/webhook-signing-secret';
const ORIGINAL = JSON.stringify({ signingSecret: 'original-secret' });

let local: LocalSecretsManager;
let client: SecretsManagerClient;
let events: string[];

const secretAt = async (stage: 'AWSCURRENT' | 'AWSPREVIOUS' | 'AWSPENDING'): Promise<string | undefined> => {
  try {
    return (await client.send(new GetSecretValueCommand({ SecretId: SECRET_ID, VersionStage: stage }))).SecretString;
  } catch {
    return undefined;
  }
};
const signingSecretAt = async (stage: 'AWSCURRENT' | 'AWSPENDING'): Promise<unknown> => JSON.parse((await secretAt(stage)) ?? '{}').signingSecret;

beforeEach(async () => {
  local = await startLocalSecretsManager({ [SECRET_ID]: JSON.parse(ORIGINAL) });
  client = new SecretsManagerClient({ region: 'us-east-1', endpoint: local.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  events = [];
});
afterEach(async () => {
  client.destroy();
  await local.close();
});

describe('generateSigningSecret', () => {
  it('makes a different 256-bit secret each time', () => {
    // Act
    const secrets = new Set(Array.from({ length: 50 }, generateSigningSecret));

    // Assess
    expect(secrets.size).toBe(50);
    for (const secret of secrets) expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
  });
});

describe('rotateSigningSecret', () => {
  const stages = async (): Promise<Record<string, string[]>> =>
    (await client.send(new DescribeSecretCommand({ SecretId: SECRET_ID }))).VersionIdsToStages ?? {};

  it('after a rotation, a failed one leaves AWSCURRENT and AWSPREVIOUS exactly as before (the true previous is kept)', async () => {
    // Prepare: one good rotation, so both stages exist.
    await rotateSigningSecret({ secretId: SECRET_ID, secretsManager: client, generateSecret: () => 'second-secret' });
    const before = await stages();
    const currentBefore = await secretAt('AWSCURRENT');
    const previousBefore = await secretAt('AWSPREVIOUS');

    // Act
    const outcome = await rotateSigningSecret({
      secretId: SECRET_ID,
      secretsManager: client,
      generateSecret: () => 'never-used-secret',
      install: async () => {
        throw new Error('the relay is down');
      },
    }).catch((error: unknown) => error);

    // Assess
    expect(outcome).toBeInstanceOf(RotationAbandonedError);
    expect(await secretAt('AWSCURRENT')).toBe(currentBefore);
    expect(await secretAt('AWSPREVIOUS')).toBe(previousBefore);
    expect(previousBefore).toBe(ORIGINAL);
    expect(await secretAt('AWSPENDING')).toBeUndefined();
    expect(Object.fromEntries(Object.entries(await stages()).filter(([, labels]) => labels.length > 0))).toEqual(before);
  });

  it('keeps the other keys of the secret and can be re-run after a run that died half-way', async () => {
    // Prepare: a broken run left an AWSPENDING version behind.
    await client.send(new PutSecretValueCommand({ SecretId: SECRET_ID, SecretString: JSON.stringify({ signingSecret: 'orphan', note: 'kept' }), VersionStages: ['AWSPENDING'] }));
    await client.send(new PutSecretValueCommand({ SecretId: SECRET_ID, SecretString: JSON.stringify({ signingSecret: 'original-secret', note: 'kept' }) }));
    const installed: string[] = [];

    // Act
    const rotation = await rotateSigningSecret({ secretId: SECRET_ID, secretsManager: client, generateSecret: () => 'fresh-secret', install: async (secret) => void installed.push(secret) });

    // Assess
    expect(installed).toEqual(['fresh-secret']);
    expect(JSON.parse((await secretAt('AWSCURRENT')) ?? '{}')).toEqual({ signingSecret: 'fresh-secret', note: 'kept' });
    expect(JSON.parse((await secretAt('AWSPREVIOUS')) ?? '{}')).toEqual({ signingSecret: 'original-secret', note: 'kept' });
    expect(await secretAt('AWSPENDING')).toBeUndefined();
    expect((await stages())[rotation.versionId]).toEqual(['AWSCURRENT']);
  });

  it('stores the new secret as pending, installs it while the old one is still current, then makes it current', async () => {
    // Act
    const rotation = await rotateSigningSecret({
      secretId: SECRET_ID,
      secretsManager: client,
      generateSecret: () => 'generated-secret',
      install: async (secret) => {
        events.push(`install ${secret} (current: ${String(await signingSecretAt('AWSCURRENT'))}, pending: ${String(await signingSecretAt('AWSPENDING'))})`);
      },
    });

    // Assess
    expect(events).toEqual(['install generated-secret (current: original-secret, pending: generated-secret)']);
    expect(await signingSecretAt('AWSCURRENT')).toBe('generated-secret');
    expect(await secretAt('AWSPREVIOUS')).toBe(ORIGINAL);
    expect(await secretAt('AWSPENDING')).toBeUndefined();
    expect((await stages())[rotation.versionId]).toEqual(['AWSCURRENT']);
  });

  it('says how to create the secret when it does not exist, and stores nothing', async () => {
    // Act
    const outcome = await rotateSigningSecret({ secretId: 'genesys-guest-sync/test/missing', secretsManager: client }).catch((error: unknown) => error);

    // Assess
    expect(outcome).toBeInstanceOf(RotationError);
    expect(outcome).toMatchObject({ kind: 'secret', message: expect.stringMatching(/does not exist.*create-secret --name genesys-guest-sync\/test\/missing/) });
    expect(await secretAt('AWSCURRENT')).toBe(ORIGINAL);
  });
});
