/**
 * The shared, Secrets Manager-backed auth layer (docs/api.md section 7): a secret cache,
 * token providers for Genesys and the CRM, and readers for the other secrets.
 */
export type { TokenProvider } from './types.ts';
export { SecretError, TokenEndpointError } from './errors.ts';
export { SecretCache, requireSecretString } from './secret-cache.ts';
export { GenesysTokenProvider, TOKEN_EXPIRY_BUFFER_MS } from './genesys-token.ts';
export { getIdentitySalt, getWebhookSigningSecrets } from './secret-helpers.ts';
export { sharedCrmTokenProvider, sharedGenesysTokenProvider, sharedSecretCache } from './shared.ts';
