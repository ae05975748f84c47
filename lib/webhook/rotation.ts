/**
 * Rotating the webhook signing secret (the secret relays sign deliveries to
 * `POST /webhooks/genesys` with) the way AWS rotates secrets. Genesys Cloud has no webhook
 * registration API: it delivers conversation events through EventBridge, so the secret is
 * shared only with the relays and systems that call the route.
 *
 * 1. The new secret is stored as AWSPENDING (`PutSecretValue` with `VersionStages`):
 *    AWSCURRENT and AWSPREVIOUS do not move, and the webhook route already accepts it.
 * 2. It is installed where deliveries are signed (optionally checked against the running
 *    route, which must accept it).
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
import { RotationAbandonedError, RotationError } from './errors.ts';

/** A signing secret: 32 random bytes, base64url (43 characters). */
export function generateSigningSecret(): string {
  return randomBytes(32).toString('base64url');
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

const errorName = (error: unknown): string => (error as { name?: string } | null)?.name ?? '';

/** Reads AWSCURRENT; a missing secret is a `RotationError` saying how to create it. */
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
    throw new RotationError(
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
