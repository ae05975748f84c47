/**
 * Webhook registration against the local Secrets Manager (real SDK client) and a recorded
 * Genesys: what is stored, in which order, and what is restored when Genesys refuses.
 */
import { DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GenesysError } from '#lib/genesys';
import type { WebhookRegistration } from '#lib/genesys';
import { RegistrationError, RotationAbandonedError, generateSigningSecret, rotateAndRegister, rotateSigningSecret, webhookRegistration } from '#lib/webhook';
import type { RotateAndRegisterOptions } from '#lib/webhook';
import { startLocalSecretsManager, type LocalSecretsManager } from '../../../../local/secrets-manager.ts';

const SECRET_ID = 'genesys-guest-sync/test/webhook-signing-secret';
const ORIGINAL = JSON.stringify({ signingSecret: 'original-secret' });

let local: LocalSecretsManager;
let client: SecretsManagerClient;
let registered: WebhookRegistration[];
let events: string[];

const secretAt = async (stage: 'AWSCURRENT' | 'AWSPREVIOUS' | 'AWSPENDING'): Promise<string | undefined> => {
  try {
    return (await client.send(new GetSecretValueCommand({ SecretId: SECRET_ID, VersionStage: stage }))).SecretString;
  } catch {
    return undefined;
  }
};
const versionCount = async (): Promise<number> =>
  Object.keys((await client.send(new DescribeSecretCommand({ SecretId: SECRET_ID }))).VersionIdsToStages ?? {}).length;

function options(overrides: Partial<RotateAndRegisterOptions> = {}, genesys: { tokenError?: Error; registerError?: Error } = {}): RotateAndRegisterOptions {
  return {
    callbackUrl: 'https://hooks.example.com/webhooks/genesys',
    orgId: 'org-1234',
    secretId: SECRET_ID,
    secretsManager: client,
    generateSecret: () => 'generated-secret',
    genesys: {
      getToken: async () => {
        events.push('token');
        if (genesys.tokenError) throw genesys.tokenError;
        return 'token';
      },
      registerWebhook: async (webhook) => {
        const stage = async (name: 'AWSCURRENT' | 'AWSPENDING'): Promise<unknown> => JSON.parse((await secretAt(name)) ?? '{}').signingSecret;
        events.push(`register (current: ${String(await stage('AWSCURRENT'))}, pending: ${String(await stage('AWSPENDING'))})`);
        registered.push(webhook);
        if (genesys.registerError) throw genesys.registerError;
        return { status: 201, body: { id: 'webhook-1', name: webhook.name, address: webhook.address, events: webhook.events } };
      },
    },
    ...overrides,
  };
}

beforeEach(async () => {
  local = await startLocalSecretsManager({ [SECRET_ID]: JSON.parse(ORIGINAL) });
  client = new SecretsManagerClient({ region: 'us-east-1', endpoint: local.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  registered = [];
  events = [];
});
afterEach(async () => {
  client.destroy();
  await local.close();
});

describe('webhookRegistration', () => {
  it('subscribes the organisation to attribute updates, delivered to the callback and signed with the secret', () => {
    // Act
    const body = webhookRegistration({ callbackUrl: 'https://hooks.example.com/in', orgId: 'org-1234', secret: 's3cret' });

    // Assess
    expect(body).toEqual({
      name: 'crm-guest-sync-org-1234',
      description: expect.any(String),
      enabled: true,
      type: 'web',
      address: 'https://hooks.example.com/in',
      events: ['guest.session.attributes.updated'],
      filter: "organizationId eq 'org-1234'",
      httpHeaders: { 'X-CRM-Integration': 'true' },
      secret: 's3cret',
    });
  });
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

describe('rotateAndRegister', () => {
  it('checks the credentials, stores the new secret as pending, registers with it, then makes it current', async () => {
    // Act
    const result = await rotateAndRegister(options());

    // Assess
    expect(events).toEqual(['token', 'register (current: original-secret, pending: generated-secret)']);
    expect(await secretAt('AWSPENDING')).toBeUndefined();
    expect(registered[0]?.secret).toBe('generated-secret');
    expect(await secretAt('AWSCURRENT')).toBe(JSON.stringify({ signingSecret: 'generated-secret' }));
    expect(await secretAt('AWSPREVIOUS')).toBe(ORIGINAL);
    expect(result).toEqual({ webhook: expect.objectContaining({ id: 'webhook-1' }), secretId: SECRET_ID, secretVersionId: expect.any(String), previousKept: true });
  });

  describe.each([
    ['an http URL', 'http://hooks.example.com/in'],
    ['a relative URL', '/webhooks/genesys'],
    ['an empty URL', ''],
  ])('with %s as callback', (_case, callbackUrl) => {
    it('refuses before touching Genesys or the secret', async () => {
      // Act
      const outcome = await rotateAndRegister(options({ callbackUrl })).catch((error: unknown) => error);

      // Assess
      expect(outcome).toBeInstanceOf(RegistrationError);
      expect(outcome).toMatchObject({ kind: 'invalid_input', message: expect.stringMatching(/https/) });
      expect(events).toEqual([]);
      expect(await versionCount()).toBe(1);
    });
  });

  it('changes nothing when the Genesys credentials are refused', async () => {
    // Act
    const outcome = await rotateAndRegister(options({}, { tokenError: new Error('invalid_client') })).catch((error: unknown) => error);

    // Assess
    expect(outcome).toMatchObject({ message: 'invalid_client' });
    expect(await secretAt('AWSCURRENT')).toBe(ORIGINAL);
    expect(await versionCount()).toBe(1);
  });

  it('leaves AWSCURRENT and AWSPREVIOUS exactly as they were when Genesys refuses the registration, and says so', async () => {
    // Prepare
    const refusal = new GenesysError({ operation: 'registerWebhook', kind: 'http', upstreamStatus: 400, retryable: false, attempts: 1, upstreamCode: 'bad.request', correlationId: 'corr-1' });

    // Act
    const outcome = await rotateAndRegister(options({}, { registerError: refusal })).catch((error: unknown) => error);

    // Assess
    expect(outcome).toBeInstanceOf(RegistrationError);
    expect((outcome as RegistrationError).kind).toBe('genesys_refused');
    expect((outcome as Error).message).toMatch(/Genesys refused the webhook registration: .*HTTP 400.*bad\.request.*corr-1.*current and previous versions are unchanged/);
    expect((outcome as Error).message).not.toContain('generated-secret');
    expect(await secretAt('AWSCURRENT')).toBe(ORIGINAL);
    expect(await secretAt('AWSPREVIOUS')).toBeUndefined();
    expect(await secretAt('AWSPENDING')).toBeUndefined();
    expect(await versionCount()).toBe(1);
  });

  it('says how to create the secret when it does not exist', async () => {
    // Act
    const outcome = await rotateAndRegister(options({ secretId: 'genesys-guest-sync/test/missing' })).catch((error: unknown) => error);

    // Assess
    expect(outcome).toMatchObject({ kind: 'secret', message: expect.stringMatching(/does not exist.*create-secret --name genesys-guest-sync\/test\/missing/) });
    expect(registered).toEqual([]);
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
});
