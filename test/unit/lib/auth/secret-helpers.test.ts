import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SecretCache, SecretError, getIdentitySalt, getWebhookSigningSecrets } from '#lib/auth';
import { everythingLogged, notFound, secretOutput } from './support.ts';
import { rejectionOf } from '#test/support/rejection.ts';

const secretsManager = mockClient(SecretsManagerClient);
const WEBHOOK_SECRET_ID = 'guest-sync/webhook';
const SALT_SECRET_ID = 'guest-sync/identity-salt';
const secretReads = (): number => secretsManager.commandCalls(GetSecretValueCommand).length;

/** Makes the webhook secret's two version stages answer as given (undefined: stage missing). */
function webhookVersions(current: unknown, previous: unknown): void {
  secretsManager.on(GetSecretValueCommand, { SecretId: WEBHOOK_SECRET_ID, VersionStage: 'AWSCURRENT' }).resolves(
    secretOutput(current),
  );
  const previousStage = secretsManager.on(GetSecretValueCommand, {
    SecretId: WEBHOOK_SECRET_ID,
    VersionStage: 'AWSPREVIOUS',
  });
  if (previous === undefined) previousStage.rejects(notFound('AWSPREVIOUS'));
  else previousStage.resolves(secretOutput(previous, 'AWSPREVIOUS'));
}

describe('getWebhookSigningSecrets', () => {
  beforeEach(() => {
    secretsManager.reset();
  });

  it('accepts the current and the previous signing secret during a rotation, current first', async () => {
    // Prepare
    webhookVersions({ signingSecret: 'whsec-new' }, { signingSecret: 'whsec-old' });

    // Act
    const secrets = await getWebhookSigningSecrets(new SecretCache(), WEBHOOK_SECRET_ID);

    // Assess
    expect(secrets).toEqual(['whsec-new', 'whsec-old']);
  });

  it.each([
    { what: 'there is no previous version', previous: undefined },
    { what: 'the previous version has the same secret', previous: { signingSecret: 'whsec-new' } },
    { what: 'the previous signing secret is empty', previous: { signingSecret: '' } },
    { what: 'the previous version has no signing secret', previous: { somethingElse: 'x' } },
  ])('accepts only the current secret when $what', async ({ previous }) => {
    // Prepare
    webhookVersions({ signingSecret: 'whsec-new' }, previous);

    // Act
    const secrets = await getWebhookSigningSecrets(new SecretCache(), WEBHOOK_SECRET_ID);

    // Assess
    expect(secrets).toEqual(['whsec-new']);
  });

  it('serves repeated verifications from the cache, including a missing previous version', async () => {
    // Prepare
    webhookVersions({ signingSecret: 'whsec-new' }, undefined);
    const cache = new SecretCache();

    // Act
    for (let i = 0; i < 5; i += 1) await getWebhookSigningSecrets(cache, WEBHOOK_SECRET_ID);

    // Assess
    expect(secretReads()).toBe(2);
  });

  it.each([{ signingSecret: '' }, { signingSecret: '   ' }, {}])(
    'refuses a current version without a usable signing secret (%j)',
    async (current) => {
      // Prepare
      webhookVersions(current, { signingSecret: 'whsec-old' });

      // Act
      const error = await rejectionOf(getWebhookSigningSecrets(new SecretCache(), WEBHOOK_SECRET_ID));

      // Assess
      expect(error).toBeInstanceOf(SecretError);
      expect(error).toMatchObject({ reason: 'missing_key', key: 'signingSecret' });
      expect(error.message).toContain(WEBHOOK_SECRET_ID);
      expect(everythingLogged(error)).not.toContain('whsec-old');
    },
  );
});

describe('getIdentitySalt', () => {
  beforeEach(() => {
    secretsManager.reset();
  });

  it('returns the salt', async () => {
    // Prepare
    secretsManager.on(GetSecretValueCommand, { SecretId: SALT_SECRET_ID }).resolves(secretOutput({ salt: 'pepper-91' }));

    // Act
    const salt = await getIdentitySalt(new SecretCache(), SALT_SECRET_ID);

    // Assess
    expect(salt).toBe('pepper-91');
  });

  it.each([{}, { salt: '' }, { salt: null }, { salt: 7 }])('never falls back to a default salt (%j)', async (secret) => {
    // Prepare
    secretsManager.on(GetSecretValueCommand, { SecretId: SALT_SECRET_ID }).resolves(secretOutput(secret));

    // Act
    const error = await rejectionOf(getIdentitySalt(new SecretCache(), SALT_SECRET_ID));

    // Assess
    expect(error).toBeInstanceOf(SecretError);
    expect(error).toMatchObject({ reason: 'missing_key', key: 'salt', secretId: SALT_SECRET_ID });
    expect(error.message).toMatch(/"salt"/);
  });

  it('fails when the salt secret does not exist', async () => {
    // Prepare
    secretsManager.on(GetSecretValueCommand, { SecretId: SALT_SECRET_ID }).rejects(notFound('AWSCURRENT'));

    // Act
    const error = await rejectionOf(getIdentitySalt(new SecretCache(), SALT_SECRET_ID));

    // Assess
    expect(error).toMatchObject({ reason: 'not_found', secretId: SALT_SECRET_ID });
  });
});
