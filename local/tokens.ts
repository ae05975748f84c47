/**
 * Bearer tokens the local stack's HTTP API JWT authorizers accept. serverless-offline
 * (started with ignoreJWTSignature) checks issuer, audience, expiry and scopes as API
 * Gateway does, but not the signature, so a local HMAC key signs them.
 */
import { SignJWT } from 'jose';

/** The local stage's issuer and audiences (serverless.yml `params.local`). */
export const LOCAL_JWT = {
  issuer: 'http://127.0.0.1/genesys-guest-sync-local',
  machineAudience: 'genesys-guest-sync',
  widgetAudience: 'web-messenger',
} as const;

/** What a minted token says. */
export interface MintOptions {
  sub: string;
  /** Space-separated scopes, e.g. "guest-sync/read guest-sync/write". */
  scope?: string;
  tier?: string;
  name?: string;
  email?: string;
  phoneNumber?: string;
  lastOrderDate?: string;
  /** Which authorizer's audience to include; default both. */
  audience?: 'machine' | 'widget' | 'both';
  expiresInSeconds?: number;
  issuer?: string;
  machineAudience?: string;
  widgetAudience?: string;
  /** Issue time override (seconds since epoch), e.g. to mint an expired token. */
  issuedAt?: number;
}

const LOCAL_SIGNING_KEY = new TextEncoder().encode('genesys-guest-sync local stack signing key');

/** Mints a token for the local stack. */
export async function mintLocalToken(options: MintOptions): Promise<string> {
  const audienceKind = options.audience ?? 'both';
  const machine = options.machineAudience ?? LOCAL_JWT.machineAudience;
  const widget = options.widgetAudience ?? LOCAL_JWT.widgetAudience;
  const audience = audienceKind === 'machine' ? [machine] : audienceKind === 'widget' ? [widget] : [machine, widget];
  const issuedAt = options.issuedAt ?? Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {};
  if (options.scope) claims['scope'] = options.scope;
  if (options.tier) claims['tier'] = options.tier;
  if (options.name) claims['name'] = options.name;
  if (options.email) claims['email'] = options.email;
  if (options.phoneNumber) claims['phone_number'] = options.phoneNumber;
  if (options.lastOrderDate) claims['last_order_date'] = options.lastOrderDate;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.sub)
    .setIssuer(options.issuer ?? LOCAL_JWT.issuer)
    .setAudience(audience)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + (options.expiresInSeconds ?? 3600))
    .sign(LOCAL_SIGNING_KEY);
}
