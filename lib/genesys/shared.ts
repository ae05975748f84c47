/**
 * The container's one Genesys client (STYLE trait 2), built on first use from the
 * `genesys` configuration section and the shared token provider.
 */
import { sharedGenesysTokenProvider } from '#lib/auth';
import type { Config } from '#lib/config';
import { GenesysClient } from './client.ts';

let client: GenesysClient | undefined;

/** The Genesys client every handler of this container shares. */
export function sharedGenesysClient(config: Pick<Config, 'runtime' | 'genesys'>): GenesysClient {
  client ??= new GenesysClient({
    apiBaseUrl: config.genesys.apiBaseUrl,
    tokens: sharedGenesysTokenProvider(config),
  });
  return client;
}

/** Drops the shared client so a test can build it again from a new environment. */
export function resetSharedGenesysClientForTests(): void {
  client = undefined;
}
