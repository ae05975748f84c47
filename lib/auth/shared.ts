/**
 * The container's configured instances (STYLE trait 2): one secret cache and one provider
 * per upstream, created on first use and reused by warm invocations.
 */
import { loadConfig } from '#lib/config';
import { CrmTokenProvider } from './crm-token.ts';
import { GenesysTokenProvider } from './genesys-token.ts';
import { SecretCache, resetDefaultSecretsManagerClient } from './secret-cache.ts';

let secretCache: SecretCache | undefined;
let genesysTokens: GenesysTokenProvider | undefined;
let crmTokens: CrmTokenProvider | undefined;

/** The one secret cache of this container; its TTL is `SECRET_CACHE_TTL_SECONDS` (default 300). */
export function sharedSecretCache(): SecretCache {
  secretCache ??= new SecretCache({ ttlMs: loadConfig([]).runtime.secretCacheTtlMs });
  return secretCache;
}

/** The Genesys token provider every function shares (configured from the `genesys` section). */
export function sharedGenesysTokenProvider(): GenesysTokenProvider {
  if (!genesysTokens) {
    const { genesys } = loadConfig(['genesys']);
    genesysTokens = new GenesysTokenProvider({
      secrets: sharedSecretCache(),
      secretId: genesys.credentialsSecretId,
      loginBaseUrl: genesys.loginBaseUrl,
    });
  }
  return genesysTokens;
}

/** The CRM token provider every function shares (configured from the `crm` section). */
export function sharedCrmTokenProvider(): CrmTokenProvider {
  if (!crmTokens) {
    const { crm } = loadConfig(['crm']);
    crmTokens = new CrmTokenProvider({ secrets: sharedSecretCache(), secretId: crm.credentialsSecretId });
  }
  return crmTokens;
}

/** Forgets the shared instances and the Secrets Manager client, so each test starts cold. */
export function resetSharedAuthForTests(): void {
  secretCache = undefined;
  genesysTokens = undefined;
  crmTokens = undefined;
  resetDefaultSecretsManagerClient();
}
