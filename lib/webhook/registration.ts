/**
 * Rotating the webhook signing secret the way AWS rotates secrets, and registering the
 * Genesys webhook (contract section 4, "register webhook") with it.
 *
 * 1. The new secret is stored as AWSPENDING (`PutSecretValue` with `VersionStages`):
 *    AWSCURRENT and AWSPREVIOUS do not move, and the webhook route already accepts it.
 * 2. It is installed where deliveries are signed (Genesys registration, or a check that
 *    the route accepts it).
 * 3. Only then AWSCURRENT moves to it (the old current becomes AWSPREVIOUS, still
 *    accepted for deliveries in flight), and the AWSPENDING label is removed.
 * If step 2 fails, only the AWSPENDING label is removed: AWSCURRENT and AWSPREVIOUS stay
 * exactly as they were. A re-run after an interruption starts over cleanly: a new
 * `PutSecretValue` moves the AWSPENDING label off any version a broken run left.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
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

/** What `rotateSigningSecret` needs. */
export interface RotateSigningSecretOptions {
  /** The webhook signing secret's id (`WEBHOOK_SECRET_ID`). */
  secretId: string;
  secretsManager: SecretsManagerClient;
  generateSecret?: () => string;
  /**
   * Hands the new secret to whoever signs deliveries while it is AWSPENDING. Throwing
   * abandons the rotation (AWSCURRENT and AWSPREVIOUS untouched) and the error propagates.
   */
  install?: (secret: string) => Promise<void>;
}

/** A completed signing-secret rotation. */
export interface SigningSecretRotation {
  secretId: string;
  /** The version now AWSCURRENT. */
  versionId: string;
  /** The version now AWSPREVIOUS (the one that was current). */
  previousVersionId: string;
}

/** A rotation that stopped after changing something; the message says what state it left. */
export class RotationAbandonedError extends Error {
  constructor(
    message: string,
    readonly installError: unknown,
  ) {
    super(message, { cause: installError });
    this.name = 'RotationAbandonedError';
  }
}

const errorName = (error: unknown): string => (error as { name?: string } | null)?.name ?? '';

/** Reads AWSCURRENT; a missing secret is a `RegistrationError` saying how to create it. */
async function readCurrent(secretsManager: SecretsManagerClient, secretId: string): Promise<{ value: Record<string, unknown>; versionId: string }> {
  try {
    const current = await secretsManager.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }));
    let value: Record<string, unknown> = {};
    try {
      const parsed = JSON.parse(current.SecretString ?? '{}') as unknown;
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) value = parsed as Record<string, unknown>;
    } catch {
      // A current value that is not a JSON object is replaced by one holding only the new secret.
    }
    return { value, versionId: current.VersionId ?? '' };
  } catch (error) {
    if (errorName(error) !== 'ResourceNotFoundException') throw error;
    throw new RegistrationError(
      'secret',
      `The webhook signing secret "${secretId}" does not exist. Create it first (see README, Deployment), e.g. ` +
        `aws secretsmanager create-secret --name ${secretId} --secret-string '{"signingSecret":"placeholder"}'`,
      { cause: error },
    );
  }
}

/**
 * Rotates the signing secret the AWS way (new version AWSPENDING, installed, then made
 * AWSCURRENT); see the file comment. Other keys of the secret's JSON are kept.
 */
export async function rotateSigningSecret(options: RotateSigningSecretOptions): Promise<SigningSecretRotation> {
  const { secretsManager, secretId } = options;
  const current = await readCurrent(secretsManager, secretId);
  const secret = (options.generateSecret ?? generateSigningSecret)();
  const pending = await secretsManager.send(
    new PutSecretValueCommand({
      SecretId: secretId,
      SecretString: JSON.stringify({ ...current.value, signingSecret: secret }),
      VersionStages: ['AWSPENDING'],
      ClientRequestToken: randomUUID(),
    }),
  );
  const versionId = pending.VersionId ?? '';

  try {
    await options.install?.(secret);
  } catch (error) {
    let state = 'The new signing secret was discarded; the current and previous versions are unchanged.';
    try {
      await secretsManager.send(new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: 'AWSPENDING', RemoveFromVersionId: versionId }));
    } catch {
      state = `The current and previous versions are unchanged; the unused new version ${versionId} still carries AWSPENDING (a re-run replaces it).`;
    }
    throw new RotationAbandonedError(state, error);
  }

  await secretsManager.send(
    new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT', MoveToVersionId: versionId, RemoveFromVersionId: current.versionId }),
  );
  await secretsManager.send(new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: 'AWSPENDING', RemoveFromVersionId: versionId }));
  return { secretId, versionId, previousVersionId: current.versionId };
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
  /** True: the signing secret that was current is now AWSPREVIOUS, still accepted. */
  previousKept: boolean;
}

/**
 * Checks the Genesys credentials, then rotates the signing secret with the registration
 * as its install step: a Genesys refusal leaves AWSCURRENT and AWSPREVIOUS as they were.
 */
export async function rotateAndRegister(options: RotateAndRegisterOptions): Promise<RegistrationResult> {
  const callbackUrl = requireHttpsUrl(options.callbackUrl);
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(options.orgId)) {
    throw new RegistrationError('invalid_input', '--org-id must be a Genesys organization id (letters, digits, ".", "_" or "-").');
  }

  await options.genesys.getToken();

  let response: GenesysResponse<Webhook> | undefined;
  let rotation: SigningSecretRotation;
  try {
    rotation = await rotateSigningSecret({
      secretId: options.secretId,
      secretsManager: options.secretsManager,
      ...(options.generateSecret ? { generateSecret: options.generateSecret } : {}),
      install: async (secret) => {
        response = await options.genesys.registerWebhook(webhookRegistration({ callbackUrl, orgId: options.orgId, secret }));
      },
    });
  } catch (error) {
    if (!(error instanceof RotationAbandonedError)) throw error;
    const cause = error.installError;
    const detail =
      cause instanceof GenesysError
        ? `${cause.message}${cause.upstreamCode ? ` (${cause.upstreamCode})` : ''}${cause.correlationId ? `, correlation id ${cause.correlationId}` : ''}`
        : cause instanceof Error
          ? cause.message
          : String(cause);
    throw new RegistrationError('genesys_refused', `Genesys refused the webhook registration: ${detail}. ${error.message}`, { cause });
  }

  return {
    webhook: (response as GenesysResponse<Webhook>).body,
    secretId: options.secretId,
    secretVersionId: rotation.versionId,
    previousKept: rotation.previousVersionId !== '',
  };
}
