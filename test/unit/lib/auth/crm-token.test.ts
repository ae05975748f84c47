import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SecretCache, SecretError } from '#lib/auth';
import { CrmTokenProvider } from '#lib/auth/crm-token.ts';
import { crmRequest } from '#lib/crm';
import { everythingLogged, notFound, secretOutput } from './support.ts';
import { rejectionOf } from '#test/support/rejection.ts';

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
    const error = await rejectionOf(tokens.getToken());

    // Assess
    expect(error).toBeInstanceOf(SecretError);
    expect(error).toMatchObject({ reason: 'missing_key', key: 'apiToken' });
    expect(error.message).toContain(SECRET_ID);
    expect(everythingLogged(error)).not.toContain('do-not-leak');
  });
});

describe('CrmTokenProvider across a rotation (through the CRM client)', () => {
  const readsOf = (stage: string): number =>
    secretsManager.commandCalls(GetSecretValueCommand).filter((call) => (call.args[0].input.VersionStage ?? 'AWSCURRENT') === stage).length;
  /** A CRM that accepts one token and counts what it saw. */
  const crmAccepting = (accepted: { token: string }) => {
    const seen: string[] = [];
    const fetchFn: typeof fetch = async (_input, init) => {
      const token = new Headers(init?.headers).get('authorization')?.replace(/^Bearer /, '') ?? '';
      seen.push(token);
      return token === accepted.token ? new Response('[]', { status: 200 }) : new Response('{}', { status: 401 });
    };
    return { fetch: fetchFn, seen };
  };

  beforeEach(() => {
    secretsManager.reset();
  });

  it('answers 50 parallel requests in the rotation gap with one shared re-read that finds AWSPENDING', async () => {
    // Prepare: the CRM already accepts only the new token; AWSCURRENT still holds the old one.
    secretsManager
      .on(GetSecretValueCommand, { SecretId: SECRET_ID, VersionStage: 'AWSCURRENT' })
      .resolves(secretOutput({ apiToken: 'crm-old' }))
      .on(GetSecretValueCommand, { SecretId: SECRET_ID, VersionStage: 'AWSPENDING' })
      .resolves(secretOutput({ apiToken: 'crm-new' }, 'AWSPENDING'));
    const tokens = new CrmTokenProvider({ secrets: new SecretCache(), secretId: SECRET_ID });
    await tokens.getToken();
    const crm = crmAccepting({ token: 'crm-new' });

    // Act
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => crmRequest({ baseUrl: 'http://crm.test', method: 'GET', path: '/customers?email=x', timeoutMs: 5_000, tokens, fetch: crm.fetch })),
    );
    const later = await crmRequest({ baseUrl: 'http://crm.test', method: 'GET', path: '/customers?email=x', timeoutMs: 5_000, tokens, fetch: crm.fetch });

    // Assess
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(later.status).toBe(200);
    expect(readsOf('AWSPENDING')).toBe(1);
    expect(readsOf('AWSCURRENT')).toBe(2);
    expect(crm.seen.filter((t) => t === 'crm-old').length).toBeLessThanOrEqual(50);
  });

  it('gives up after one re-read when nothing better exists: the 401 reaches the caller', async () => {
    // Prepare
    secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ID, VersionStage: 'AWSCURRENT' }).resolves(secretOutput({ apiToken: 'crm-old' }));
    secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ID, VersionStage: 'AWSPENDING' }).rejects(notFound('AWSPENDING'));
    const tokens = new CrmTokenProvider({ secrets: new SecretCache(), secretId: SECRET_ID });
    const crm = crmAccepting({ token: 'another' });

    // Act
    const response = await crmRequest({ baseUrl: 'http://crm.test', method: 'GET', path: '/customers?email=x', timeoutMs: 5_000, tokens, fetch: crm.fetch });

    // Assess
    expect(response.status).toBe(401);
    expect(crm.seen).toEqual(['crm-old', 'crm-old']);
  });
});
