/**
 * The login host: `POST /oauth/token` with the client-credentials grant (what the SDK's
 * `loginClientCredentialsGrant` sends: Basic client id:secret, form
 * `grant_type=client_credentials`), answering `{access_token, token_type, expires_in}`.
 */
import { randomBytes } from 'node:crypto';
import type { RouteDef, SandboxReply, SandboxRequest } from '../server.ts';
import type { GenesysContext } from './context.ts';

/** One OAuth client the sandbox accepts. */
export interface GenesysClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** The token route; `clients()` is read on every request so a rotation applies at once. */
export function tokenRoutes(ctx: GenesysContext, clients: () => GenesysClientCredentials[]): RouteDef[] {
  const oauthError = (status: number, error: string, description: string): SandboxReply => ({
    status,
    body: { error, error_description: description },
    headers: status === 401 ? { 'www-authenticate': 'Basic realm="genesys-sandbox"' } : {},
  });
  return [
    {
      method: 'POST',
      path: '/oauth/token',
      operation: 'loginClientCredentialsGrant',
      handler: (req: SandboxRequest) => {
        const basic = /^Basic\s+(\S+)$/i.exec(req.header('authorization') ?? '');
        const decoded = basic?.[1] ? Buffer.from(basic[1], 'base64').toString('utf8') : '';
        const separator = decoded.indexOf(':');
        const clientId = separator > 0 ? decoded.slice(0, separator) : '';
        const clientSecret = separator > 0 ? decoded.slice(separator + 1) : '';
        const client = clients().find((c) => c.clientId === clientId && c.clientSecret === clientSecret);
        if (!client) return oauthError(401, 'invalid_client', 'Client authentication failed');
        const contentType = req.header('content-type') ?? '';
        if (!contentType.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
          return oauthError(400, 'invalid_request', 'The body must be application/x-www-form-urlencoded');
        }
        const grantType = new URLSearchParams(req.rawBody.toString('utf8')).get('grant_type');
        if (!grantType) return oauthError(400, 'invalid_request', 'grant_type is required');
        if (grantType !== 'client_credentials') {
          return oauthError(400, 'unsupported_grant_type', 'Only client_credentials is supported');
        }
        const accessToken = randomBytes(32).toString('base64url');
        const world = ctx.world();
        const now = ctx.clock.now();
        world.tokens.set(accessToken, {
          clientId: client.clientId,
          expiresAt: now + ctx.settings.tokenTtlSeconds * 1000,
          windowStart: now,
          windowCount: 0,
        });
        world.tokensIssued += 1;
        return {
          status: 200,
          body: { access_token: accessToken, token_type: 'bearer', expires_in: ctx.settings.tokenTtlSeconds },
          headers: { 'cache-control': 'no-store' },
        };
      },
    },
  ];
}

/** The bearer token of a request, if it names a token that is still valid. */
export function bearerToken(ctx: GenesysContext, req: { header(name: string): string | undefined }): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(req.header('authorization') ?? '');
  const token = match?.[1];
  if (!token) return undefined;
  const stored = ctx.world().tokens.get(token);
  return stored && stored.expiresAt > ctx.clock.now() ? token : undefined;
}

/**
 * Counts one request against a token's per-minute budget (Genesys limits each
 * client-credentials token to 300 requests per minute by default); answers the seconds
 * until the budget resets when it is spent, else undefined.
 */
export function spendTokenBudget(ctx: GenesysContext, token: string): number | undefined {
  const limit = ctx.settings.tokenRateLimitPerMinute;
  const stored = ctx.world().tokens.get(token);
  if (limit === null || !stored) return undefined;
  const now = ctx.clock.now();
  if (now - stored.windowStart >= 60_000) {
    stored.windowStart = now;
    stored.windowCount = 0;
  }
  stored.windowCount += 1;
  if (stored.windowCount <= limit) return undefined;
  return Math.max(1, Math.ceil((stored.windowStart + 60_000 - now) / 1000));
}
