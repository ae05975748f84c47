/**
 * The container's configured instances (STYLE trait 2): one secret cache and one provider
 * per upstream, built on first use from the configuration the function loaded at cold
 * start, and reused by warm invocations.
 */
import type { Config } from '#lib/config';
import { CrmTokenProvider } from './crm-token.ts';
import { GenesysTokenProvider } from './genesys-token.ts';
import { SecretCache, resetDefaultSecretsManagerClient } from './secret-cache.ts';

let secretCache: SecretCache | undefined;
let genesysTokens: GenesysTokenProvider | undefined;
let crmTokens: CrmTokenProvider | undefined;

/** The one secret cache of this container; its TTL is the `runtime` section's (`SECRET_CACHE_TTL_SECONDS`, default 300). */
export function sharedSecretCache(config: Pick<Config, 'runtime'>): SecretCache {
  secretCache ??= new SecretCache({ ttlMs: config.runtime.secretCacheTtlMs });
  return secretCache;
}

/** The Genesys token provider every function shares (configured from the `genesys` section). */
export function sharedGenesysTokenProvider(config: Pick<Config, 'runtime' | 'genesys'>): GenesysTokenProvider {
  genesysTokens ??= new GenesysTokenProvider({
    secrets: sharedSecretCache(config),
    secretId: config.genesys.credentialsSecretId,
    loginBaseUrl: config.genesys.loginBaseUrl,
  });
  return genesysTokens;
}

/** The CRM token provider every function shares (configured from the `crm` section). */
export function sharedCrmTokenProvider(config: Pick<Config, 'runtime' | 'crm'>): CrmTokenProvider {
  crmTokens ??= new CrmTokenProvider({ secrets: sharedSecretCache(config), secretId: config.crm.credentialsSecretId });
  return crmTokens;
}

/** Forgets the shared instances and the Secrets Manager client, so each test starts cold. */
export function resetSharedAuthForTests(): void {
  secretCache = undefined;
  genesysTokens = undefined;
  crmTokens = undefined;
  resetDefaultSecretsManagerClient();
}
