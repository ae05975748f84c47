/**
 * `npm run register-webhook` against the local stack, run as an operator runs it (a child
 * process reading `.local/stack.json`): what Genesys receives, what Secrets Manager holds
 * afterwards, and that the webhook route accepts deliveries signed with the new secret.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signPayload } from '#lib/webhook';
import { addFaults, genesysState, resetSandboxes, stack } from '../support/stack.ts';

const PROJECT = resolve(import.meta.dirname, '../..');
const ORG_ID = '2d8e4f6a-1b3c-4d5e-8f70-a1b2c3d4e5f6';
const CALLBACK = 'https://hooks.example.com/webhooks/genesys';

let workdir: string;
let secretsManager: SecretsManagerClient;
let originalSecret: string;

const secretAt = async (stage: 'AWSCURRENT' | 'AWSPREVIOUS'): Promise<string | undefined> => {
  const { SecretString } = await secretsManager.send(new GetSecretValueCommand({ SecretId: stack().secretIds.webhook, VersionStage: stage }));
  return (JSON.parse(SecretString ?? '{}') as { signingSecret?: string }).signingSecret;
};

/** Runs the script from a folder whose `.local/stack.json` describes the test stack. */
function registerWebhook(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [join(PROJECT, 'node_modules/tsx/dist/cli.mjs'), join(PROJECT, 'scripts/register-webhook.ts'), ...args],
      { cwd: workdir, timeout: 60_000, env: { ...process.env, GENESYS_LOGIN_BASE_URL: '' } },
      (error, stdout, stderr) => done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  workdir = await mkdtemp(join(tmpdir(), 'register-webhook-'));
  await mkdir(join(workdir, '.local'));
  await writeFile(join(workdir, '.local', 'stack.json'), JSON.stringify(stack()));
  secretsManager = new SecretsManagerClient({
    region: 'us-east-1',
    endpoint: stack().secretsEndpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  originalSecret = (await secretAt('AWSCURRENT')) ?? '';
});
afterAll(async () => {
  // Leave the stack's webhook secret as found (the registered one stays accepted as previous).
  if ((await secretAt('AWSCURRENT')) !== originalSecret) {
    await secretsManager.send(
      new PutSecretValueCommand({ SecretId: stack().secretIds.webhook, SecretString: JSON.stringify({ signingSecret: originalSecret }) }),
    );
  }
  secretsManager.destroy();
  await resetSandboxes();
  await rm(workdir, { recursive: true, force: true });
});
beforeEach(async () => {
  await resetSandboxes();
});

describe('npm run register-webhook', () => {
  it('registers the webhook with a fresh secret, stored first as the current version', async () => {
    // Prepare
    const before = await secretAt('AWSCURRENT');

    // Act
    const result = await registerWebhook('--callback-url', CALLBACK, '--org-id', ORG_ID);

    // Assess
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(printed).toMatchObject({ webhookId: expect.any(String), address: CALLBACK, events: ['guest.session.attributes.updated'] });
    expect((await genesysState()).webhooks).toEqual([
      expect.objectContaining({
        id: printed['webhookId'],
        type: 'web',
        enabled: true,
        address: CALLBACK,
        events: ['guest.session.attributes.updated'],
        filter: `organizationId eq '${ORG_ID}'`,
        httpHeaders: { 'X-CRM-Integration': 'true' },
        hasSecret: true,
      }),
    ]);
    const current = await secretAt('AWSCURRENT');
    expect(current).not.toBe(before);
    expect(current).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await secretAt('AWSPREVIOUS')).toBe(before);
    expect(`${result.stdout}${result.stderr}`).not.toContain(current);
  });

  it('leaves the webhook route accepting deliveries signed with the new secret and with the previous one', async () => {
    // Prepare
    const previous = await secretAt('AWSCURRENT');
    expect((await registerWebhook('--callback-url', CALLBACK, '--org-id', ORG_ID)).code).toBe(0);
    const current = (await secretAt('AWSCURRENT')) ?? '';
    const deliver = (secret: string) => {
      const body = JSON.stringify({ eventId: randomUUID(), event: 'guest.session.attributes.updated', sessionId: randomUUID(), timestamp: new Date().toISOString() });
      return fetch(`${stack().apiUrl}/webhooks/genesys`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signPayload(secret, Buffer.from(body)) },
        body,
      });
    };

    // Act: the route re-reads the secret on the first unmatched signature (at most every few seconds).
    let status = 0;
    for (let attempt = 0; attempt < 30 && status !== 202; attempt += 1) {
      status = (await deliver(current)).status;
      if (status !== 202) await new Promise((done) => setTimeout(done, 500));
    }
    const withPrevious = await deliver(previous ?? '');

    // Assess
    expect(status).toBe(202);
    expect(withPrevious.status).toBe(202);
  });

  describe.each([
    ['an http callback URL', ['--callback-url', 'http://hooks.example.com/x', '--org-id', ORG_ID], 2, /must be an absolute https URL/],
    ['no callback URL', ['--org-id', ORG_ID], 2, /must be an absolute https URL/],
    ['no org id', ['--callback-url', CALLBACK], 2, /--org-id is required/],
  ])('with %s', (_case, args, code, message) => {
    it(`exits ${code} with a clear message and changes nothing`, async () => {
      // Prepare
      const before = await secretAt('AWSCURRENT');

      // Act
      const result = await registerWebhook(...args);

      // Assess
      expect(result.code).toBe(code);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toContain('usage: npm run register-webhook');
      expect((await genesysState()).webhooks).toEqual([]);
      expect(await secretAt('AWSCURRENT')).toBe(before);
    });
  });

  it('says Genesys refused the credentials, and changes nothing, when the client is not accepted', async () => {
    // Prepare
    const before = await secretAt('AWSCURRENT');
    await fetch(`${stack().genesysUrl}/__sandbox/clients`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clients: [{ clientId: 'someone-else', clientSecret: 'not-ours' }], revokeTokens: true }),
    });

    // Act
    const result = await registerWebhook('--callback-url', CALLBACK, '--org-id', ORG_ID);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Genesys refused the client credentials in "genesys-guest-sync\/local\/genesys-credentials"/);
    expect(await secretAt('AWSCURRENT')).toBe(before);
  });

  it('says Genesys refused the registration and restores the previous secret', async () => {
    // Prepare
    const before = await secretAt('AWSCURRENT');
    await addFaults('genesys', [{ operation: 'registerWebhook', status: 400 }]);

    // Act
    const result = await registerWebhook('--callback-url', CALLBACK, '--org-id', ORG_ID);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Genesys refused the webhook registration: .*HTTP 400.*previous signing secret was made current again/);
    expect(await secretAt('AWSCURRENT')).toBe(before);
    expect((await genesysState()).webhooks).toEqual([]);
  });
});
