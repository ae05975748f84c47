/**
 * `npm run register-webhook -- --callback-url <https url> --org-id <id> [--stage <stage>]`
 * registers the Genesys webhook for guest attribute updates with a freshly generated
 * signing secret, rotated the AWS way: stored first as AWSPENDING (already accepted by the
 * route), made AWSCURRENT once Genesys accepted the registration (the old version stays
 * accepted as AWSPREVIOUS while deliveries in flight arrive); a refusal leaves both as they were.
 *
 * Stage `local` (the default) uses the running local stack (`.local/stack.json`, written
 * by `npm start`): its Secrets Manager endpoint and its Genesys sandbox. Any other stage
 * uses AWS with the SDK's normal credential chain and region, the stage's secret ids
 * (`genesys-guest-sync/<stage>/...`, or WEBHOOK_SECRET_ID / GENESYS_CREDENTIALS_SECRET_ID)
 * and the Genesys hosts of GENESYS_REGION (or --genesys-region, or the overrides).
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GenesysTokenProvider, SecretCache, SecretError, TokenEndpointError } from '#lib/auth';
import { loadConfig } from '#lib/config';
import { ConfigError } from '#lib/errors';
import { GenesysClient, deadlineAfter } from '#lib/genesys';
import { RegistrationError, requireHttpsUrl, rotateAndRegister } from '#lib/webhook';
import { awsProblem, failure, parseCli, usageError } from './cli.ts';
import { readStackEndpoints } from './stack-endpoints.ts';

const SERVICE = 'genesys-guest-sync';
const cli = {
  name: 'register-webhook',
  usage:
    'usage: npm run register-webhook -- --callback-url <https url> --org-id <genesys org id> ' +
    '[--stage <stage, default local>] [--region <aws region>] [--genesys-region <e.g. mypurecloud.ie>]',
  options: {
    'callback-url': { type: 'string' },
    'org-id': { type: 'string' },
    stage: { type: 'string' },
    region: { type: 'string' },
    'genesys-region': { type: 'string' },
  },
} as const;
const { values } = parseCli(cli);

let callbackUrl: string;
try {
  callbackUrl = requireHttpsUrl(values['callback-url']);
} catch (error) {
  usageError(cli, (error as Error).message);
}
const orgId = values['org-id'];
if (!orgId) usageError(cli, '--org-id is required (your Genesys Cloud organization id).');

const stage = values.stage ?? 'local';

/** Where to find Secrets Manager and Genesys, and which secrets to use. */
interface Target {
  secretsManager: SecretsManagerClient;
  apiBaseUrl: string;
  loginBaseUrl: string;
  webhookSecretId: string;
  genesysSecretId: string;
  description: string;
}

async function localTarget(): Promise<Target> {
  const stack = await readStackEndpoints();
  if (!stack) {
    failure(cli, 'no local stack found (.local/stack.json). Start it with `npm start`, or pass --stage <stage> to register against AWS.');
  }
  return {
    secretsManager: new SecretsManagerClient({
      region: 'us-east-1',
      endpoint: stack.secretsEndpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
    apiBaseUrl: stack.genesysUrl,
    loginBaseUrl: process.env['GENESYS_LOGIN_BASE_URL'] || stack.genesysUrl,
    webhookSecretId: stack.secretIds.webhook,
    genesysSecretId: stack.secretIds.genesys,
    description: `the local stack (${stack.genesysUrl}${stack.sandboxGenesys ? ', sandbox Genesys' : ''})`,
  };
}

function awsTarget(): Target {
  const env = process.env;
  const genesysRegion = values['genesys-region'] ?? env['GENESYS_REGION'] ?? 'mypurecloud.com';
  let genesys;
  try {
    ({ genesys } = loadConfig(['genesys'], {
      ...env,
      GENESYS_REGION: genesysRegion,
      GENESYS_CREDENTIALS_SECRET_ID: env['GENESYS_CREDENTIALS_SECRET_ID'] || `${SERVICE}/${stage}/genesys-credentials`,
    }));
  } catch (error) {
    if (error instanceof ConfigError) usageError(cli, error.message);
    throw error;
  }
  const region = values.region;
  return {
    secretsManager: new SecretsManagerClient(region ? { region } : {}),
    apiBaseUrl: genesys.apiBaseUrl,
    loginBaseUrl: genesys.loginBaseUrl,
    webhookSecretId: env['WEBHOOK_SECRET_ID'] || `${SERVICE}/${stage}/webhook-signing-secret`,
    genesysSecretId: genesys.credentialsSecretId,
    description: `AWS stage "${stage}" (${genesys.apiBaseUrl})`,
  };
}

/** A message for the failures an operator can fix, naming what to fix. */
function explain(error: unknown, target: Target): string {
  if (error instanceof RegistrationError) return error.message;
  // Secret reads wrap the SDK's error; what went wrong underneath decides the advice.
  const root = error instanceof SecretError && error.reason === 'read_failed' && error.cause ? error.cause : error;
  const aws = awsProblem(root);
  if (aws) return aws;
  if ((root as { name?: string } | null)?.name === 'AccessDeniedException') return `AWS refused access: ${(root as Error).message}`;
  if (error instanceof SecretError && error.secretId === target.genesysSecretId && error.reason !== 'read_failed') {
    return `missing Genesys credentials: ${error.message}. Store {"clientId":"...","clientSecret":"..."} of a client-credentials OAuth client in it.`;
  }
  if (error instanceof TokenEndpointError) {
    return error.reason === 'invalid_credentials'
      ? `Genesys refused the client credentials in "${target.genesysSecretId}" (${error.message}). Check the OAuth client id and secret.`
      : `could not get a Genesys token: ${error.message}`;
  }
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

const target = stage === 'local' ? await localTarget() : awsTarget();
const tokens = new GenesysTokenProvider({
  secrets: new SecretCache({ client: target.secretsManager, ttlMs: 0 }),
  secretId: target.genesysSecretId,
  loginBaseUrl: target.loginBaseUrl,
});
const client = new GenesysClient({ apiBaseUrl: target.apiBaseUrl, tokens });

try {
  const result = await rotateAndRegister({
    callbackUrl,
    orgId,
    secretId: target.webhookSecretId,
    secretsManager: target.secretsManager,
    genesys: {
      getToken: () => tokens.getToken(),
      registerWebhook: (webhook) => client.registerWebhook(webhook, { deadline: deadlineAfter(30_000) }),
    },
  });
  process.stderr.write(
    `Registered webhook ${result.webhook.id} against ${target.description}. New signing secret stored as the current version of ` +
      `"${result.secretId}"${result.previousKept ? '; the previous version stays accepted for deliveries in flight' : ''}.\n`,
  );
  process.stdout.write(
    `${JSON.stringify(
      {
        webhookId: result.webhook.id,
        name: result.webhook.name,
        address: result.webhook.address,
        events: result.webhook.events,
        filter: result.webhook.filter,
        secretId: result.secretId,
        secretVersionId: result.secretVersionId,
      },
      null,
      2,
    )}\n`,
  );
} catch (error) {
  failure(cli, explain(error, target));
} finally {
  target.secretsManager.destroy();
}
