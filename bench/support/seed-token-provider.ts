/**
 * The seed's token cache (seed 000, `GenesysOAuthClient.getAccessToken`), kept only as the
 * baseline of bench/token-provider.ts. It has the seed's flaw on purpose: a plain cache with
 * no single flight, so every caller that finds no fresh token reads the credentials secret
 * and asks the token endpoint itself. Never use it outside the benchmark.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** How the seed-style provider is built (same inputs as the real one, minus the cache). */
export interface SeedStyleTokenProviderOptions {
  client: SecretsManagerClient;
  secretId: string;
  loginBaseUrl: string;
  now: () => number;
}

/** `if (token && now < expiry - 60 s) return token; else read the secret and fetch`. */
export class SeedStyleTokenProvider {
  readonly #options: SeedStyleTokenProviderOptions;
  #accessToken: string | null = null;
  #tokenExpiry = 0;

  constructor(options: SeedStyleTokenProviderOptions) {
    this.#options = options;
  }

  /** The seed's getAccessToken, with the credentials read from Secrets Manager on each refresh. */
  async getToken(): Promise<string> {
    const { client, secretId, loginBaseUrl, now } = this.#options;
    if (this.#accessToken && now() < this.#tokenExpiry - 60_000) return this.#accessToken;

    const secret = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    const { clientId, clientSecret } = JSON.parse(secret.SecretString ?? '{}') as Record<string, string>;
    const response = await fetch(`${loginBaseUrl}/oauth/token`, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    if (!response.ok) throw new Error(`token endpoint answered HTTP ${response.status}`);
    const body = (await response.json()) as { access_token: string; expires_in: number };
    this.#accessToken = body.access_token;
    this.#tokenExpiry = now() + body.expires_in * 1000;
    return this.#accessToken;
  }
}
