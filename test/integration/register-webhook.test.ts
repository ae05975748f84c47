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

const secretAt = async (stage: 'AWSCURRENT' | 'AWSPREVIOUS' | 'AWSPENDING'): Promise<string | undefined> => {
  try {
    const { SecretString } = await secretsManager.send(new GetSecretValueCommand({ SecretId: stack().secretIds.webhook, VersionStage: stage }));
    return (JSON.parse(SecretString ?? '{}') as { signingSecret?: string }).signingSecret;
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
};

/** Runs a script from a folder whose `.local/stack.json` describes the test stack. */
function runScript(script: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [join(PROJECT, 'node_modules/tsx/dist/cli.mjs'), join(PROJECT, 'scripts', script), ...args],
      { cwd: workdir, timeout: 60_000, env: { ...process.env, GENESYS_LOGIN_BASE_URL: '' } },
      (error, stdout, stderr) => done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const registerWebhook = (...args: string[]) => runScript('register-webhook.ts', ...args);
const rotateWebhookSecret = (...args: string[]) => runScript('rotate-webhook-secret.ts', ...args);

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

  it('says Genesys refused the registration and leaves the current and previous secrets as they were', async () => {
    // Prepare
    const before = await secretAt('AWSCURRENT');
    const previousBefore = await secretAt('AWSPREVIOUS');
    await addFaults('genesys', [{ operation: 'registerWebhook', status: 400 }]);

    // Act
    const result = await registerWebhook('--callback-url', CALLBACK, '--org-id', ORG_ID);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Genesys refused the webhook registration: .*HTTP 400.*current and previous versions are unchanged/);
    expect(await secretAt('AWSCURRENT')).toBe(before);
    expect(await secretAt('AWSPREVIOUS')).toBe(previousBefore);
    expect(await secretAt('AWSPENDING')).toBeUndefined();
    expect((await genesysState()).webhooks).toEqual([]);
  });
});

describe('npm run rotate-webhook-secret', () => {
  it('makes a new secret current after the route accepted it as pending; the old one stays accepted as previous', async () => {
    // Prepare
    const before = await secretAt('AWSCURRENT');

    // Act
    const result = await rotateWebhookSecret('--verify-url', `${stack().apiUrl}/webhooks/genesys`);
    const again = await rotateWebhookSecret();

    // Assess
    expect(result.code).toBe(0);
    expect(again.code).toBe(0);
    const current = await secretAt('AWSCURRENT');
    expect(current).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(current).not.toBe(before);
    expect(await secretAt('AWSPREVIOUS')).not.toBe(before);
    expect(await secretAt('AWSPENDING')).toBeUndefined();
    expect(`${result.stdout}${result.stderr}${again.stdout}${again.stderr}`).not.toContain(current);
  });

  it('leaves the current and previous secrets exactly as they were when the route refuses the new one', async () => {
    // Prepare
    await rotateWebhookSecret();
    const current = await secretAt('AWSCURRENT');
    const previous = await secretAt('AWSPREVIOUS');

    // Act: a URL that answers 404, not 202, to the signed check.
    const result = await rotateWebhookSecret('--verify-url', `${stack().apiUrl}/webhooks/nowhere`);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/check of the new secret failed: .*answered 4\d\d.*current and previous versions are unchanged/);
    expect(await secretAt('AWSCURRENT')).toBe(current);
    expect(await secretAt('AWSPREVIOUS')).toBe(previous);
    expect(await secretAt('AWSPENDING')).toBeUndefined();
  });

  it.each([['--bogus'], ['--verify-url', 'ftp://example.com'], ['--stage', 'a b']])('prints its usage and changes nothing for %s', async (...args) => {
    // Prepare
    const before = await secretAt('AWSCURRENT');

    // Act
    const result = await rotateWebhookSecret(...args);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('usage: npm run rotate-webhook-secret');
    expect(await secretAt('AWSCURRENT')).toBe(before);
  });
});
