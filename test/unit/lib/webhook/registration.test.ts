/**
 * Webhook registration against the local Secrets Manager (real SDK client) and a recorded
 * Genesys: what is stored, in which order, and what is restored when Genesys refuses.
 */
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GenesysError } from '#lib/genesys';
import type { WebhookRegistration } from '#lib/genesys';
import { RegistrationError, generateSigningSecret, rotateAndRegister, webhookRegistration } from '#lib/webhook';
import type { RotateAndRegisterOptions } from '#lib/webhook';
import { startLocalSecretsManager, type LocalSecretsManager } from '../../../../local/secrets-manager.ts';

const SECRET_ID = 'genesys-guest-sync/test/webhook-signing-secret';
const ORIGINAL = JSON.stringify({ signingSecret: 'original-secret' });

let local: LocalSecretsManager;
let client: SecretsManagerClient;
let registered: WebhookRegistration[];
let events: string[];

const secretAt = async (stage: 'AWSCURRENT' | 'AWSPREVIOUS'): Promise<string | undefined> => {
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
        events.push(`register (current: ${JSON.parse((await secretAt('AWSCURRENT')) ?? '{}').signingSecret})`);
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
  it('checks the credentials, stores the new secret as current, then registers with it', async () => {
    // Act
    const result = await rotateAndRegister(options());

    // Assess
    expect(events).toEqual(['token', 'register (current: generated-secret)']);
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

  it('makes the old secret current again when Genesys refuses the registration, and says so', async () => {
    // Prepare
    const refusal = new GenesysError({ operation: 'registerWebhook', kind: 'http', upstreamStatus: 400, retryable: false, attempts: 1, upstreamCode: 'bad.request', correlationId: 'corr-1' });

    // Act
    const outcome = await rotateAndRegister(options({}, { registerError: refusal })).catch((error: unknown) => error);

    // Assess
    expect(outcome).toBeInstanceOf(RegistrationError);
    expect((outcome as RegistrationError).kind).toBe('genesys_refused');
    expect((outcome as Error).message).toMatch(/Genesys refused the webhook registration: .*HTTP 400.*bad\.request.*corr-1.*previous signing secret was made current again/);
    expect((outcome as Error).message).not.toContain('generated-secret');
    expect(await secretAt('AWSCURRENT')).toBe(ORIGINAL);
  });

  it('says how to create the secret when it does not exist', async () => {
    // Act
    const outcome = await rotateAndRegister(options({ secretId: 'genesys-guest-sync/test/missing' })).catch((error: unknown) => error);

    // Assess
    expect(outcome).toMatchObject({ kind: 'secret', message: expect.stringMatching(/does not exist.*create-secret --name genesys-guest-sync\/test\/missing/) });
    expect(registered).toEqual([]);
  });
});
