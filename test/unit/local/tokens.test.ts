import { decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { LOCAL_JWT, mintLocalToken } from '#local/tokens.ts';
import type { MintOptions } from '#local/tokens.ts';

/** Mints a token and decodes its claims. */
const claimsOf = async (options: MintOptions) => decodeJwt(await mintLocalToken(options));

describe('mintLocalToken', () => {
  it('mints an HS256 JWT', async () => {
    // Act
    const token = await mintLocalToken({ sub: 'user-1' });

    // Assess
    expect(token.split('.')).toHaveLength(3);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'JWT' });
  });

  it('names the local issuer and the subject', async () => {
    // Act
    const claims = await claimsOf({ sub: 'user-42' });

    // Assess
    expect(claims.iss).toBe('http://127.0.0.1/genesys-guest-sync-local');
    expect(claims.iss).toBe(LOCAL_JWT.issuer);
    expect(claims.sub).toBe('user-42');
  });

  it.each<[MintOptions['audience'], string[]]>([
    ['machine', ['genesys-guest-sync']],
    ['widget', ['web-messenger']],
    ['both', ['genesys-guest-sync', 'web-messenger']],
    [undefined, ['genesys-guest-sync', 'web-messenger']],
  ])('audience %s -> aud %j', async (audience, expected) => {
    // Act
    const claims = await claimsOf({ sub: 'user-1', ...(audience ? { audience } : {}) });

    // Assess
    expect([claims.aud].flat()).toEqual(expected);
  });

  it('carries the scope and every profile claim the widget reads', async () => {
    // Act
    const claims = await claimsOf({
      sub: 'user-7',
      scope: 'guest-sync/read guest-sync/write',
      tier: 'platinum',
      name: 'Jane Doe',
      email: 'jane.doe@enterprise.com',
      phoneNumber: '+14155552671',
      lastOrderDate: '2025-01-02',
    });

    // Assess
    expect(claims).toMatchObject({
      sub: 'user-7',
      scope: 'guest-sync/read guest-sync/write',
      tier: 'platinum',
      name: 'Jane Doe',
      email: 'jane.doe@enterprise.com',
      phone_number: '+14155552671',
      last_order_date: '2025-01-02',
    });
  });

  it('leaves out the claims it was not given', async () => {
    // Act
    const claims = await claimsOf({ sub: 'user-1', scope: '' });

    // Assess
    expect(Object.keys(claims).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'sub']);
  });

  it('is issued now and expires an hour later by default', async () => {
    // Prepare
    const before = Math.floor(Date.now() / 1000);

    // Act
    const claims = await claimsOf({ sub: 'user-1' });

    // Assess
    const after = Math.floor(Date.now() / 1000);
    expect(claims.iat).toBeGreaterThanOrEqual(before);
    expect(claims.iat).toBeLessThanOrEqual(after);
    expect(claims.exp).toBe(claims.iat! + 3600);
  });

  it('honours a custom lifetime and issue time (e.g. an expired token)', async () => {
    // Act
    const claims = await claimsOf({ sub: 'user-1', issuedAt: 1_700_000_000, expiresInSeconds: 60 });

    // Assess
    expect(claims.iat).toBe(1_700_000_000);
    expect(claims.exp).toBe(1_700_000_060);
  });

  it('honours a custom issuer and audiences (another stage)', async () => {
    // Act
    const claims = await claimsOf({
      sub: 'user-1',
      issuer: 'https://auth.example.com/',
      machineAudience: 'guest-sync-dev',
      widgetAudience: 'messenger-dev',
    });

    // Assess
    expect(claims.iss).toBe('https://auth.example.com/');
    expect([claims.aud].flat()).toEqual(['guest-sync-dev', 'messenger-dev']);
  });

  it('mints different tokens for different subjects', async () => {
    // Act
    const [a, b] = await Promise.all([
      mintLocalToken({ sub: 'user-a', issuedAt: 1_700_000_000 }),
      mintLocalToken({ sub: 'user-b', issuedAt: 1_700_000_000 }),
    ]);

    // Assess
    expect(a).not.toBe(b);
  });
});
