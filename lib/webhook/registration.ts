/**
 * Registering the Genesys webhook (contract section 4, "register webhook") with a fresh
 * signing secret. The secret is stored first, as the new AWSCURRENT version of the
 * webhook secret, so the old one (now AWSPREVIOUS) keeps verifying deliveries already in
 * flight; if Genesys then refuses the registration, the old value is made current again.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { GetSecretValueCommand, PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GenesysError, type GenesysResponse, type Webhook, type WebhookRegistration } from '#lib/genesys';
import { ATTRIBUTES_UPDATED_EVENT } from './event.ts';

/** Headers Genesys adds to every delivery, so operators can tell our deliveries apart. */
export const WEBHOOK_HTTP_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'X-CRM-Integration': 'true' });

/** Why a registration did not happen; each kind has its own exit message in the script. */
export type RegistrationFailureKind = 'invalid_input' | 'credentials' | 'secret' | 'genesys_refused';

/** A registration failure whose message says what to do; never carries the secret. */
export class RegistrationError extends Error {
  constructor(
    readonly kind: RegistrationFailureKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RegistrationError';
  }
}

/** The callback URL as Genesys will call it; only absolute https URLs are accepted. */
export function requireHttpsUrl(value: string | undefined): string {
  let url: URL | undefined;
  try {
    url = value ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || url.protocol !== 'https:') {
    throw new RegistrationError('invalid_input', `--callback-url must be an absolute https URL (got ${value === undefined || value === '' ? 'nothing' : JSON.stringify(value)}); Genesys delivers webhooks over https only.`);
  }
  return url.toString();
}

/** A signing secret: 32 random bytes, base64url (43 characters). */
export function generateSigningSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The registration body: the attribute-update event for the organisation's guests,
 * delivered to `callbackUrl`, signed with `secret`.
 */
export function webhookRegistration(input: { callbackUrl: string; orgId: string; secret: string }): WebhookRegistration {
  return {
    name: `crm-guest-sync-${input.orgId}`,
    description: 'Genesys guest-sync: guest session attribute updates to the CRM sync queue',
    enabled: true,
    type: 'web',
    address: input.callbackUrl,
    events: [ATTRIBUTES_UPDATED_EVENT],
    filter: `organizationId eq '${input.orgId.replace(/'/g, "''")}'`,
    httpHeaders: { ...WEBHOOK_HTTP_HEADERS },
    secret: input.secret,
  };
}

/** What `rotateAndRegister` needs. */
export interface RotateAndRegisterOptions {
  callbackUrl: string;
  orgId: string;
  /** The webhook signing secret's id (`WEBHOOK_SECRET_ID`). */
  secretId: string;
  secretsManager: SecretsManagerClient;
  genesys: {
    /** Proves the Genesys credentials work before anything is changed. */
    getToken(): Promise<string>;
    registerWebhook(webhook: WebhookRegistration): Promise<GenesysResponse<Webhook>>;
  };
  generateSecret?: () => string;
}

/** A registered webhook and the secret version that signs its deliveries. */
export interface RegistrationResult {
  webhook: Webhook;
  secretId: string;
  secretVersionId: string;
  /** True when a previous signing secret exists (now AWSPREVIOUS, still accepted). */
  previousKept: boolean;
}

const errorName = (error: unknown): string => (error as { name?: string } | null)?.name ?? '';

/**
 * Checks the Genesys credentials, stores a fresh signing secret as AWSCURRENT, then
 * registers the webhook with it. A Genesys refusal restores the old secret value.
 */
export async function rotateAndRegister(options: RotateAndRegisterOptions): Promise<RegistrationResult> {
  const callbackUrl = requireHttpsUrl(options.callbackUrl);
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(options.orgId)) {
    throw new RegistrationError('invalid_input', '--org-id must be a Genesys organization id (letters, digits, ".", "_" or "-").');
  }

  await options.genesys.getToken();

  let previous: string | undefined;
  try {
    previous = (await options.secretsManager.send(new GetSecretValueCommand({ SecretId: options.secretId }))).SecretString;
  } catch (error) {
    if (errorName(error) !== 'ResourceNotFoundException') throw error;
    throw new RegistrationError(
      'secret',
      `The webhook signing secret "${options.secretId}" does not exist. Create it first (see README, Deployment), e.g. ` +
        `aws secretsmanager create-secret --name ${options.secretId} --secret-string '{"signingSecret":"placeholder"}'`,
      { cause: error },
    );
  }

  const secret = (options.generateSecret ?? generateSigningSecret)();
  const stored = await options.secretsManager.send(
    new PutSecretValueCommand({ SecretId: options.secretId, SecretString: JSON.stringify({ signingSecret: secret }), ClientRequestToken: randomUUID() }),
  );

  let response: GenesysResponse<Webhook>;
  try {
    response = await options.genesys.registerWebhook(webhookRegistration({ callbackUrl, orgId: options.orgId, secret }));
  } catch (error) {
    let restored = 'There was no previous value to restore.';
    if (previous !== undefined) {
      await options.secretsManager.send(
        new PutSecretValueCommand({ SecretId: options.secretId, SecretString: previous, ClientRequestToken: randomUUID() }),
      );
      restored = 'The previous signing secret was made current again.';
    }
    const detail =
      error instanceof GenesysError
        ? `${error.message}${error.upstreamCode ? ` (${error.upstreamCode})` : ''}${error.correlationId ? `, correlation id ${error.correlationId}` : ''}`
        : error instanceof Error
          ? error.message
          : String(error);
    throw new RegistrationError('genesys_refused', `Genesys refused the webhook registration: ${detail}. ${restored}`, { cause: error });
  }

  return {
    webhook: response.body,
    secretId: options.secretId,
    secretVersionId: stored.VersionId ?? '',
    previousKept: previous !== undefined,
  };
}
