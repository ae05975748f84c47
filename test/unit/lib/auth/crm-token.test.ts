import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CrmTokenProvider, SecretCache, SecretError } from '#lib/auth';
import { everythingLogged, failure, secretOutput } from './support.ts';

const secretsManager = mockClient(SecretsManagerClient);
const SECRET_ID = 'guest-sync/crm-credentials';
const secretReads = (): number => secretsManager.commandCalls(GetSecretValueCommand).length;

describe('CrmTokenProvider', () => {
  beforeEach(() => {
    secretsManager.reset();
  });

  it('gives the apiToken, read once for many concurrent callers', async () => {
    // Prepare
    secretsManager.on(GetSecretValueCommand).resolves(secretOutput({ apiToken: 'crm-token-1' }));
    const tokens = new CrmTokenProvider({ secrets: new SecretCache(), secretId: SECRET_ID });

    // Act
    const results = await Promise.all(Array.from({ length: 100 }, () => tokens.getToken()));
    const later = await tokens.getToken();

    // Assess
    expect(new Set([...results, later])).toEqual(new Set(['crm-token-1']));
    expect(secretReads()).toBe(1);
  });

  it('re-reads the secret once after invalidate() and picks up a rotated token', async () => {
    // Prepare
    secretsManager.on(GetSecretValueCommand).resolvesOnce(secretOutput({ apiToken: 'crm-token-1' })).resolves(
      secretOutput({ apiToken: 'crm-token-2' }),
    );
    const tokens = new CrmTokenProvider({ secrets: new SecretCache(), secretId: SECRET_ID });
    await tokens.getToken();

    // Act
    tokens.invalidate();
    const afterRejection = await Promise.all(Array.from({ length: 10 }, () => tokens.getToken()));
    const later = await tokens.getToken();

    // Assess
    expect(new Set(afterRejection)).toEqual(new Set(['crm-token-2']));
    expect(later).toBe('crm-token-2');
    // The first read, then one forced re-read of AWSCURRENT and of AWSPENDING, shared by all.
    expect(secretReads()).toBe(3);
  });

  it.each([{}, { apiToken: '' }, { apiToken: 42 }])('rejects a secret without a usable apiToken (%j)', async (secret) => {
    // Prepare
    secretsManager.on(GetSecretValueCommand).resolves(secretOutput({ ...secret, other: 'do-not-leak' }));
    const tokens = new CrmTokenProvider({ secrets: new SecretCache(), secretId: SECRET_ID });

    // Act
    const error = await failure(tokens.getToken());

    // Assess
    expect(error).toBeInstanceOf(SecretError);
    expect(error).toMatchObject({ reason: 'missing_key', key: 'apiToken' });
    expect(error.message).toContain(SECRET_ID);
    expect(everythingLogged(error)).not.toContain('do-not-leak');
  });
});
