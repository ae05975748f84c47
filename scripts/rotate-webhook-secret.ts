/**
 * `npm run rotate-webhook-secret -- [--stage <stage>] [--region <aws region>] [--verify-url <webhook url>]`
 * rotates the webhook signing secret that relays sign deliveries with, the way AWS rotates
 * secrets (lib/webhook/registration.ts): a fresh secret is stored as AWSPENDING (the
 * webhook route accepts it at once), optionally checked against the running route, and
 * only then made AWSCURRENT; the old one stays accepted as AWSPREVIOUS. If the check
 * fails, AWSCURRENT and AWSPREVIOUS are left exactly as they were. Safe to re-run: a run
 * that died half-way leaves at most an AWSPENDING version, which the next run replaces.
 *
 * Relays that read the signing secret from Secrets Manager pick the new AWSCURRENT up on
 * their next read; relays configured by hand need the new value before the next run (the
 * previous one stays accepted until then). Genesys Cloud itself delivers conversation
 * events through EventBridge and needs no signing secret.
 *
 * Stage `local` (the default) uses the running local stack's Secrets Manager
 * (`.local/stack.json`); any other stage uses AWS with the SDK's usual credentials and
 * region and the stage's secret id (`genesys-guest-sync/<stage>/webhook-signing-secret`,
 * or WEBHOOK_SECRET_ID).
 */
import { randomUUID } from 'node:crypto';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { RotationError, RotationAbandonedError, rotateSigningSecret, signPayload } from '#lib/webhook';
import { awsProblem, failure, parseCli, usageError } from './cli.ts';
import { readStackEndpoints } from './stack-endpoints.ts';

const SERVICE = 'genesys-guest-sync';
const cli = {
  name: 'rotate-webhook-secret',
  usage:
    'usage: npm run rotate-webhook-secret -- [--stage <stage, default local>] [--region <aws region>] ' +
    '[--verify-url <the webhook route, e.g. https://<api>/webhooks/genesys>]',
  options: {
    stage: { type: 'string' },
    region: { type: 'string' },
    'verify-url': { type: 'string' },
  },
} as const;
const { values } = parseCli(cli);
const stage = values.stage ?? 'local';
if (!/^[A-Za-z0-9-]{1,64}$/.test(stage)) usageError(cli, `--stage must be a stage name (letters, digits, "-"), got ${JSON.stringify(stage)}`);

let verifyUrl: URL | undefined;
const rawVerifyUrl = values['verify-url'];
if (rawVerifyUrl !== undefined) {
  try {
    verifyUrl = new URL(rawVerifyUrl);
  } catch {
    verifyUrl = undefined;
  }
  const local = verifyUrl !== undefined && ['127.0.0.1', 'localhost', '[::1]'].includes(verifyUrl.hostname);
  if (!verifyUrl || !(verifyUrl.protocol === 'https:' || (verifyUrl.protocol === 'http:' && local))) {
    usageError(cli, `--verify-url must be an absolute https URL (http only on this machine), got ${JSON.stringify(rawVerifyUrl)}`);
  }
}

/** Where the secret lives. */
async function target(): Promise<{ secretsManager: SecretsManagerClient; secretId: string; description: string }> {
  if (stage === 'local') {
    const stack = await readStackEndpoints();
    if (!stack) failure(cli, 'no local stack found (.local/stack.json). Start it with `npm start`, or pass --stage <stage> to rotate in AWS.');
    return {
      secretsManager: new SecretsManagerClient({
        region: 'us-east-1',
        endpoint: stack.secretsEndpoint,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        maxAttempts: 2,
      }),
      secretId: stack.secretIds.webhook,
      description: 'the local stack',
    };
  }
  const region = values.region;
  return {
    secretsManager: new SecretsManagerClient(region ? { region } : {}),
    secretId: process.env['WEBHOOK_SECRET_ID'] || `${SERVICE}/${stage}/webhook-signing-secret`,
    description: `AWS stage "${stage}"`,
  };
}

/**
 * The check before AWSCURRENT moves: a signed event the route acknowledges and ignores
 * (nothing is queued), which only a deployment accepting the new secret answers with 202.
 */
async function checkRouteAccepts(url: URL, secret: string): Promise<void> {
  const body = JSON.stringify({ event: 'webhook.signing-secret.rotation-check', sessionId: randomUUID(), timestamp: new Date().toISOString() });
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signPayload(secret, body) },
    body,
    signal: AbortSignal.timeout(15_000),
  });
  await response.arrayBuffer();
  if (response.status !== 202) throw new Error(`${url.href} answered ${response.status} to a delivery signed with the new secret (expected 202)`);
}

const { secretsManager, secretId, description } = await target();
try {
  const rotation = await rotateSigningSecret({
    secretId,
    secretsManager,
    ...(verifyUrl ? { install: (secret: string) => checkRouteAccepts(verifyUrl as URL, secret) } : {}),
  });
  process.stderr.write(
    `Rotated the webhook signing secret "${secretId}" in ${description}: the new version is current, ` +
      'the previous one stays accepted for deliveries in flight.\n',
  );
  process.stdout.write(`${JSON.stringify({ secretId, versionId: rotation.versionId, previousVersionId: rotation.previousVersionId }, null, 2)}\n`);
} catch (error) {
  if (error instanceof RotationAbandonedError) {
    const cause = error.installError instanceof Error ? error.installError.message : String(error.installError);
    failure(cli, `the check of the new secret failed: ${cause}. ${error.message}`);
  }
  if (error instanceof RotationError) failure(cli, error.message);
  failure(cli, awsProblem(error) ?? (error instanceof Error ? `${error.name}: ${error.message}` : String(error)));
} finally {
  secretsManager.destroy();
}
