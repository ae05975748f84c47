/** Factories the provider adapter tests share: records, and a secret cache over a mocked Secrets Manager. */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { SecretCache } from '#lib/auth';
import type { CrmRecord } from '#lib/jobs';

/** The CRM secret's id in these tests. */
export const SECRET_ID = 'guest-sync/crm-credentials';

/** One mocked Secrets Manager for every test file that imports this module. */
export const secretsManager = mockClient(SecretsManagerClient);

/** GetSecretValue calls made so far. */
export const secretReads = (): number => secretsManager.commandCalls(GetSecretValueCommand).length;

/** Makes Secrets Manager answer `values` in turn (the last one from then on). */
export function secretAnswers(...values: Array<Record<string, unknown>>): void {
  secretsManager.reset();
  let mock = secretsManager.on(GetSecretValueCommand);
  values.slice(0, -1).forEach((value) => {
    mock = mock.resolvesOnce({ SecretString: JSON.stringify(value) });
  });
  mock.resolves({ SecretString: JSON.stringify(values.at(-1)) });
}

/** A fresh secret cache (5-minute TTL) over the mocked client. */
export const secretCache = (): SecretCache => new SecretCache({ client: new SecretsManagerClient({ region: 'us-east-1' }) });

/** A record as a prefill job would carry it. */
export const recordFactory = (externalId: string, overrides: Partial<CrmRecord> = {}): CrmRecord => ({
  externalId,
  emailHash: 'a'.repeat(64),
  consentFlags: { marketing: true },
  attributes: { tier: 'gold' },
  lastInteraction: '2025-03-01T10:00:00.000Z',
  sourceUpdatedAt: '2025-03-01T10:00:00.000Z',
  ...overrides,
});

/** `n` distinct records. */
export const chunkOf = (n: number, prefix = 'session-'): CrmRecord[] => Array.from({ length: n }, (_, i) => recordFactory(`${prefix}${i}`));

/** A fault or control request to a sandbox. */
export async function control(url: string, path: string, body: unknown, method = 'POST'): Promise<void> {
  const response = await fetch(`${url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (response.status >= 300) throw new Error(`${path} answered ${response.status}`);
}
