/**
 * Where the operator scripts (`audit`, `verify-conversation`) reach Genesys Cloud, and
 * with which OAuth client.
 *
 * - `--stage local` (the default): the running local stack (`.local/stack.json`, written
 *   by `npm start`): its Genesys (the sandbox unless overridden) and the Genesys
 *   credentials in its local Secrets Manager.
 * - any other stage: real Genesys Cloud at GENESYS_REGION (or GENESYS_API_BASE_URL and
 *   GENESYS_LOGIN_BASE_URL), with the client from GENESYS_CLIENT_ID and
 *   GENESYS_CLIENT_SECRET when both are set, else from the Secrets Manager secret
 *   GENESYS_CREDENTIALS_SECRET_ID (default `genesys-guest-sync/<stage>/genesys-credentials`),
 *   read with the AWS SDK's normal credential chain and region.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GenesysTokenProvider, SecretCache, SecretError, TokenEndpointError } from '#lib/auth';
import { loadConfig } from '#lib/config';
import { ConfigError } from '#lib/errors';
import { GenesysClient, GenesysError } from '#lib/genesys';
import { noStackFound, readStackEndpoints } from './stack-endpoints.ts';

const SERVICE = 'genesys-guest-sync';

/** A Genesys client for a script, and how to describe and release it. */
export interface GenesysTarget {
  client: GenesysClient;
  description: string;
  /** The Genesys credentials secret, when they come from one (for error messages). */
  secretId: string | undefined;
  close(): void;
}

/** A usage or setup problem the operator must fix (exit code 2). */
export class TargetError extends Error {}

/**
 * A stand-in Secrets Manager client that answers every read with one fixed JSON secret,
 * so credentials from the environment go through the same token provider as stored ones.
 */
function fixedSecretClient(value: Record<string, string>): SecretsManagerClient {
  return { send: async () => ({ SecretString: JSON.stringify(value) }), destroy: () => undefined } as unknown as SecretsManagerClient;
}

async function localTarget(apiUrl: string | undefined): Promise<GenesysTarget> {
  const stack = await readStackEndpoints(process.cwd(), { apiUrl });
  if (!stack) {
    throw new TargetError(`${noStackFound({ apiUrl })}. Start it with \`npm start\`, or pass --stage <stage> to use Genesys Cloud.`);
  }
  const secretsManager = new SecretsManagerClient({
    region: 'us-east-1',
    endpoint: stack.secretsEndpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const tokens = new GenesysTokenProvider({
    secrets: new SecretCache({ client: secretsManager, ttlMs: 0 }),
    secretId: stack.secretIds.genesys,
    loginBaseUrl: process.env['GENESYS_LOGIN_BASE_URL'] || stack.genesysUrl,
  });
  return {
    client: new GenesysClient({ apiBaseUrl: stack.genesysUrl, tokens }),
    description: `the local stack (${stack.genesysUrl}${stack.sandboxGenesys ? ', sandbox Genesys' : ''})`,
    secretId: stack.secretIds.genesys,
    close: () => secretsManager.destroy(),
  };
}

function cloudTarget(stage: string, awsRegion: string | undefined): GenesysTarget {
  const env = process.env;
  let genesys;
  try {
    ({ genesys } = loadConfig(['genesys'], {
      ...env,
      GENESYS_CREDENTIALS_SECRET_ID: env['GENESYS_CREDENTIALS_SECRET_ID'] || `${SERVICE}/${stage}/genesys-credentials`,
    }));
  } catch (error) {
    if (error instanceof ConfigError) throw new TargetError(`${error.message} (set GENESYS_REGION, e.g. mypurecloud.ie)`);
    throw error;
  }
  const clientId = env['GENESYS_CLIENT_ID']?.trim();
  const clientSecret = env['GENESYS_CLIENT_SECRET']?.trim();
  const fromEnvironment = Boolean(clientId && clientSecret);
  const secretsManager = fromEnvironment
    ? fixedSecretClient({ clientId: clientId as string, clientSecret: clientSecret as string })
    : new SecretsManagerClient(awsRegion ? { region: awsRegion } : {});
  const tokens = new GenesysTokenProvider({
    secrets: new SecretCache({ client: secretsManager, ttlMs: 0 }),
    secretId: fromEnvironment ? 'GENESYS_CLIENT_ID/GENESYS_CLIENT_SECRET' : genesys.credentialsSecretId,
    loginBaseUrl: genesys.loginBaseUrl,
  });
  return {
    client: new GenesysClient({ apiBaseUrl: genesys.apiBaseUrl, tokens }),
    description: `Genesys Cloud at ${genesys.apiBaseUrl} (client from ${fromEnvironment ? 'GENESYS_CLIENT_ID' : `secret "${genesys.credentialsSecretId}"`})`,
    secretId: fromEnvironment ? undefined : genesys.credentialsSecretId,
    close: () => secretsManager.destroy(),
  };
}

/** The target for `--stage` (default `local`; `apiUrl` picks the local stack when several run). */
export async function genesysTarget(stage = 'local', awsRegion?: string, apiUrl?: string): Promise<GenesysTarget> {
  return stage === 'local' ? localTarget(apiUrl) : cloudTarget(stage, awsRegion);
}

/** A one-line explanation of a failure, naming what the operator can do about it. */
export function explainFailure(error: unknown, target: GenesysTarget | undefined): string {
  if (error instanceof TargetError) return error.message;
  const root = error instanceof SecretError && error.reason === 'read_failed' && error.cause ? error.cause : error;
  const rootName = (root as { name?: string } | null)?.name ?? '';
  if (rootName === 'CredentialsProviderError') {
    return 'no AWS credentials found to read the Genesys secret. Configure them as for the AWS CLI, or set GENESYS_CLIENT_ID and GENESYS_CLIENT_SECRET.';
  }
  if (/region is missing/i.test((root as { message?: string } | null)?.message ?? '')) return 'no AWS region configured: pass --region or set AWS_REGION.';
  if (error instanceof SecretError) return `the Genesys credentials could not be read: ${error.message}`;
  if (error instanceof TokenEndpointError) {
    return error.reason === 'invalid_credentials'
      ? `Genesys refused the OAuth client${target?.secretId ? ` in "${target.secretId}"` : ''} (${error.message}).`
      : `could not get a Genesys token: ${error.message}`;
  }
  if (error instanceof GenesysError) {
    const hint =
      error.upstreamStatus === 403
        ? ' The OAuth client lacks a permission this call needs.'
        : error.upstreamStatus === 404
          ? ' Check the id.'
          : '';
    return `${error.message}${error.correlationId ? ` (correlation id ${error.correlationId})` : ''}.${hint}`;
  }
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
