import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GenesysTokenProvider, SecretCache, SecretError, TokenEndpointError } from '#lib/auth';
import type { TokenProvider } from '#lib/auth';
import { everythingLogged, notFound, secretOutput, startLoginServer } from './support.ts';
import { rejectionOf } from '#test/support/rejection.ts';
import { unreachableUrl } from '#test/support/scripted-server.ts';
import type { LoginServer } from './support.ts';

const secretsManager = mockClient(SecretsManagerClient);
const SECRET_ID = 'guest-sync/genesys-credentials';
const CLIENT_ID = 'client-7f3a';
const CLIENT_SECRET = 'cs-Zq81-never-log-me';
const ROTATED_SECRET = 'cs-rotated-never-log-me-either';
const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const secretReads = (): number => secretsManager.commandCalls(GetSecretValueCommand).length;

/** Nothing a caller could log may contain the client secret, its Basic header or a token. */
function expectNothingSensitive(error: unknown): void {
  const logged = everythingLogged(error);
  for (const sensitive of [CLIENT_SECRET, ROTATED_SECRET, basic(CLIENT_ID, CLIENT_SECRET)]) {
    expect(logged).not.toContain(sensitive);
  }
  expect(logged).not.toMatch(/token-(\d|x)/);
}

describe('GenesysTokenProvider', () => {
  let login: LoginServer;
  let time: number;
  const now = (): number => time;

  function provider(overrides: Partial<ConstructorParameters<typeof GenesysTokenProvider>[0]> = {}): GenesysTokenProvider {
    return new GenesysTokenProvider({
      secrets: new SecretCache({ now }),
      secretId: SECRET_ID,
      loginBaseUrl: login.baseUrl,
      now,
      ...overrides,
    });
  }

  beforeEach(async () => {
    time = 1_700_000_000_000;
    secretsManager.reset();
    secretsManager
      .on(GetSecretValueCommand, { SecretId: SECRET_ID })
      .resolves(secretOutput({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }));
    login = await startLoginServer();
  });

  afterEach(async () => {
    await login.close();
  });

  it('is usable wherever a TokenProvider is expected', () => {
    // Prepare
    const tokens: TokenProvider = provider();

    // Act
    const methods = [typeof tokens.getToken, typeof tokens.invalidate];

    // Assess
    expect(methods).toEqual(['function', 'function']);
  });

  it('obtains a token with the client-credentials grant', async () => {
    // Prepare
    const tokens = provider({ loginBaseUrl: `${login.baseUrl}/` });

    // Act
    const token = await tokens.getToken();

    // Assess
    expect(token).toBe('token-1');
    expect(login.requests).toHaveLength(1);
    const [request] = login.requests;
    expect(request).toMatchObject({ method: 'POST', url: '/oauth/token', body: 'grant_type=client_credentials' });
    expect(request?.headers['authorization']).toBe(basic(CLIENT_ID, CLIENT_SECRET));
    expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded');
  });

  it('makes exactly one token request and one secret read for 100 concurrent callers', async () => {
    // Prepare
    const tokens = provider();

    // Act
    const results = await Promise.all(Array.from({ length: 100 }, () => tokens.getToken()));

    // Assess
    expect(new Set(results)).toEqual(new Set(['token-1']));
    expect(login.requests).toHaveLength(1);
    expect(secretReads()).toBe(1);
  });

  it('keeps the token until 60 s before it expires, then fetches a new one', async () => {
    // Prepare
    login.reply = (n) => ({ status: 200, body: { access_token: `token-${n}`, token_type: 'bearer', expires_in: 3600 } });
    const tokens = provider();
    const issuedAt = time;
    await tokens.getToken();

    // Act
    time = issuedAt + (3600 - 61) * 1000;
    const at61sBefore = await tokens.getToken();
    time = issuedAt + (3600 - 59) * 1000;
    const at59sBefore = await tokens.getToken();

    // Assess
    expect(at61sBefore).toBe('token-1');
    expect(at59sBefore).toBe('token-2');
    expect(login.requests).toHaveLength(2);
  });

  it('after a 401 from Genesys, invalidate() fetches a new token and re-reads the secret', async () => {
    // Prepare
    const tokens = provider();
    const rejected = await tokens.getToken();

    // Act
    tokens.invalidate();
    const replacement = await tokens.getToken();

    // Assess
    expect(rejected).toBe('token-1');
    expect(replacement).toBe('token-2');
    expect(login.requests).toHaveLength(2);
    expect(secretReads()).toBe(2);
  });

  it('picks up rotated client credentials after invalidate()', async () => {
    // Prepare
    const tokens = provider();
    await tokens.getToken();
    secretsManager
      .on(GetSecretValueCommand, { SecretId: SECRET_ID })
      .resolves(secretOutput({ clientId: CLIENT_ID, clientSecret: ROTATED_SECRET }));
    await tokens.getToken();

    // Act
    tokens.invalidate();
    await tokens.getToken();

    // Assess
    expect(login.requests.map((r) => r.headers['authorization'])).toEqual([
      basic(CLIENT_ID, CLIENT_SECRET),
      basic(CLIENT_ID, ROTATED_SECRET),
    ]);
  });

  it('turns a burst of 401s from concurrent calls into one token request', async () => {
    // Prepare
    const tokens = provider();
    await tokens.getToken();

    // Act
    const replacements = await Promise.all(
      Array.from({ length: 100 }, () => {
        tokens.invalidate();
        return tokens.getToken();
      }),
    );

    // Assess
    expect(new Set(replacements)).toEqual(new Set(['token-2']));
    expect(login.requests).toHaveLength(2);
    expect(secretReads()).toBe(2);
  });

  it('re-reads the secret only once after invalidate(), then trusts the cache again', async () => {
    // Prepare
    login.reply = (n) => ({ status: 200, body: { access_token: `token-${n}`, token_type: 'bearer', expires_in: 120 } });
    const tokens = provider();
    await tokens.getToken();
    tokens.invalidate();
    await tokens.getToken();

    // Act
    time += 120_000;
    await tokens.getToken();

    // Assess
    expect(login.requests).toHaveLength(3);
    expect(secretReads()).toBe(2);
  });

  describe.each([400, 401])('when the token endpoint answers %i', (status) => {
    it('fails with reason invalid_credentials and says the credentials were rejected', async () => {
      // Prepare
      login.reply = () => ({ status, body: { error: 'invalid_client', description: `bad ${CLIENT_SECRET}` } });
      const tokens = provider();

      // Act
      const error = await rejectionOf(tokens.getToken());

      // Assess
      expect(error).toBeInstanceOf(TokenEndpointError);
      expect(error).toMatchObject({ reason: 'invalid_credentials', status: 502, upstreamStatus: status });
      expect(error.message).toMatch(/client credentials/);
      expect(error.message).toMatch(/rejected/);
      expectNothingSensitive(error);
    });
  });

  describe.each([
    { what: 'HTTP 500', reply: { status: 500, body: { message: 'boom' } } },
    { what: 'HTTP 503', reply: { status: 503, body: 'unavailable' } },
    { what: 'a body that is not JSON', reply: { status: 200, body: '<html>token-1</html>' } },
    { what: 'no access_token', reply: { status: 200, body: { token_type: 'bearer', expires_in: 3600 } } },
    { what: 'no expires_in', reply: { status: 200, body: { access_token: 'token-x', token_type: 'bearer' } } },
  ])('when the token endpoint answers $what', ({ reply }) => {
    it('fails with reason upstream', async () => {
      // Prepare
      login.reply = () => reply;
      const tokens = provider();

      // Act
      const error = await rejectionOf(tokens.getToken());

      // Assess
      expect(error).toBeInstanceOf(TokenEndpointError);
      expect(error).toMatchObject({ reason: 'upstream', status: 502 });
      expectNothingSensitive(error);
    });
  });

  it('fails with reason network when the login host refuses the connection', async () => {
    // Prepare
    const tokens = provider({ loginBaseUrl: await unreachableUrl() });

    // Act
    const error = await rejectionOf(tokens.getToken());

    // Assess
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).toMatchObject({ reason: 'network', status: 502 });
    expectNothingSensitive(error);
  });

  it('fails with reason network when the login host does not answer in time', async () => {
    // Prepare
    login.reply = () => 'hang';
    const tokens = provider({ timeoutMs: 50 });

    // Act
    const error = await rejectionOf(tokens.getToken());

    // Assess
    expect(error).toMatchObject({ reason: 'network' });
    expect(error.message).toMatch(/did not answer/);
  });

  it('does not cache a failure: every waiter gets it and the next call tries again', async () => {
    // Prepare
    login.reply = (n) =>
      n === 1
        ? { status: 503, body: {} }
        : { status: 200, body: { access_token: `token-${n}`, token_type: 'bearer', expires_in: 3600 } };
    const tokens = provider();

    // Act
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => tokens.getToken()));
    const retried = await tokens.getToken();

    // Assess
    expect(outcomes.every((o) => o.status === 'rejected' && o.reason instanceof TokenEndpointError)).toBe(true);
    expect(retried).toBe('token-2');
    expect(login.requests).toHaveLength(2);
  });

  describe.each(['clientId', 'clientSecret'])('when the secret has no %s', (missingKey) => {
    it('fails naming the secret id and the key, without calling Genesys', async () => {
      // Prepare
      const credentials: Record<string, string> = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };
      delete credentials[missingKey];
      secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ID }).resolves(secretOutput(credentials));
      const tokens = provider();

      // Act
      const error = await rejectionOf(tokens.getToken());

      // Assess
      expect(error).toBeInstanceOf(SecretError);
      expect(error).toMatchObject({ reason: 'missing_key', key: missingKey, secretId: SECRET_ID });
      expect(error.message).toContain(SECRET_ID);
      expect(error.message).toContain(missingKey);
      expectNothingSensitive(error);
      expect(everythingLogged(error)).not.toContain(CLIENT_ID);
      expect(login.requests).toHaveLength(0);
    });
  });
});

describe('GenesysTokenProvider across a credential rotation', () => {
  let login: LoginServer;
  const acceptOnly = (secret: string) => (n: number, request: { headers: Record<string, unknown> }) =>
    request.headers['authorization'] === basic(CLIENT_ID, secret)
      ? { status: 200, body: { access_token: `token-${n}`, token_type: 'bearer', expires_in: 3600 } }
      : { status: 401, body: { error: 'invalid_client' } };
  const reads = (stage: string): number =>
    secretsManager.commandCalls(GetSecretValueCommand).filter((call) => (call.args[0].input.VersionStage ?? 'AWSCURRENT') === stage).length;

  beforeEach(async () => {
    secretsManager.reset();
    login = await startLoginServer();
  });

  afterEach(async () => {
    await login.close();
  });

  it('re-reads cached credentials once when Genesys refuses them, and gets a token with the rotated secret', async () => {
    // Prepare: the container cached the old secret; AWSCURRENT has moved since.
    secretsManager
      .on(GetSecretValueCommand, { SecretId: SECRET_ID, VersionStage: 'AWSCURRENT' })
      .resolvesOnce(secretOutput({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }))
      .resolves(secretOutput({ clientId: CLIENT_ID, clientSecret: ROTATED_SECRET }));
    secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ID, VersionStage: 'AWSPENDING' }).rejects(notFound('AWSPENDING'));
    let time = 0;
    const tokens = new GenesysTokenProvider({ secrets: new SecretCache({ now: () => time }), secretId: SECRET_ID, loginBaseUrl: login.baseUrl, now: () => time });
    login.reply = (n) => ({ status: 200, body: { access_token: `token-${n}`, token_type: 'bearer', expires_in: 120 } });
    await tokens.getToken();
    login.reply = acceptOnly(ROTATED_SECRET) as LoginServer['reply'];
    time += 120_000; // the token needs renewing; the 5-minute secret cache still serves the old secret

    // Act
    const renewed = await Promise.all(Array.from({ length: 5 }, () => tokens.getToken()));

    // Assess
    expect(new Set(renewed).size).toBe(1);
    expect(login.requests.map((r) => r.headers['authorization'])).toEqual([
      basic(CLIENT_ID, CLIENT_SECRET),
      basic(CLIENT_ID, CLIENT_SECRET),
      basic(CLIENT_ID, ROTATED_SECRET),
    ]);
    expect(reads('AWSCURRENT')).toBe(2);
  });

  it('uses AWSPENDING when Genesys already accepts only the new secret and AWSCURRENT still holds the old one', async () => {
    // Prepare: a container starting in the rotation gap.
    secretsManager
      .on(GetSecretValueCommand, { SecretId: SECRET_ID, VersionStage: 'AWSCURRENT' })
      .resolves(secretOutput({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }))
      .on(GetSecretValueCommand, { SecretId: SECRET_ID, VersionStage: 'AWSPENDING' })
      .resolves(secretOutput({ clientId: CLIENT_ID, clientSecret: ROTATED_SECRET }, 'AWSPENDING'));
    login.reply = acceptOnly(ROTATED_SECRET) as LoginServer['reply'];
    const tokens = new GenesysTokenProvider({ secrets: new SecretCache(), secretId: SECRET_ID, loginBaseUrl: login.baseUrl });

    // Act
    const token = await tokens.getToken();

    // Assess
    expect(token).toBe('token-2');
    expect(login.requests.map((r) => r.headers['authorization'])).toEqual([basic(CLIENT_ID, CLIENT_SECRET), basic(CLIENT_ID, ROTATED_SECRET)]);
  });

  it('retries a refusal only once: credentials that are simply wrong still fail, after one re-read', async () => {
    // Prepare
    secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ID, VersionStage: 'AWSCURRENT' }).resolves(secretOutput({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }));
    secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ID, VersionStage: 'AWSPENDING' }).rejects(notFound('AWSPENDING'));
    login.reply = acceptOnly('something-else') as LoginServer['reply'];
    const tokens = new GenesysTokenProvider({ secrets: new SecretCache(), secretId: SECRET_ID, loginBaseUrl: login.baseUrl });

    // Act
    const error = await rejectionOf(tokens.getToken());

    // Assess
    expect(error).toMatchObject({ reason: 'invalid_credentials', status: 502 });
    expect(login.requests).toHaveLength(1);
    expect(reads('AWSCURRENT')).toBe(3);
    expect(reads('AWSPENDING')).toBe(1);
  });

  it('gives callers waiting on a request that invalidate() replaced the result of the new request', async () => {
    // Prepare: the first token request hangs on the old secret until the rotation is seen.
    secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ID }).resolves(secretOutput({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }));
    let release: (() => void) | undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const failing: typeof fetch = async (input, init) => {
      if (!release) return fetch(input, init);
      await held;
      return new Response(JSON.stringify({ message: 'unavailable' }), { status: 503 });
    };
    const tokens = new GenesysTokenProvider({ secrets: new SecretCache(), secretId: SECRET_ID, loginBaseUrl: login.baseUrl, fetch: failing });
    const waiters = Array.from({ length: 4 }, () => tokens.getToken());
    await new Promise((resolve) => setTimeout(resolve, 20));

    // Act: a 401 elsewhere invalidates; the old request then fails.
    const releaseOld = release;
    release = undefined;
    tokens.invalidate();
    const fresh = tokens.getToken();
    releaseOld?.();
    const outcomes = await Promise.allSettled([...waiters, fresh]);

    // Assess
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : 'failed'))).toEqual(Array(5).fill('token-1'));
  });
});
