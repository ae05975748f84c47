/**
 * The Messenger `environment` name of each Genesys Cloud region (pure). The deployment
 * snippet Genesys generates passes it to `Genesys('init')` as `environment` (`prod-euw1`
 * for an organisation on `mypurecloud.ie`), and the Messenger loads from that region only.
 *
 * Genesys publishes no API for this mapping: the table is the one Genesys's own service
 * discovery (`genesys-cloud-service-discovery-web`, bundled in its client apps) lists as
 * stable public environments, one per region host of the official SDK's
 * `PureCloudRegionHosts`. The SDK's newest host, `edee1.eusc-pure.cloud` (EU sovereign
 * cloud), has no published Messenger environment name yet, so it is refused like any
 * unknown region rather than guessed.
 */
import { ConfigError } from '#lib/errors';

/** `GENESYS_REGION` (the region host) -> the Messenger environment name. */
export const MESSENGER_ENVIRONMENTS: Readonly<Record<string, string>> = {
  'mypurecloud.com': 'prod',
  'use2.us-gov-pure.cloud': 'fedramp-use2-core',
  'usw2.pure.cloud': 'prod-usw2',
  'cac1.pure.cloud': 'prod-cac1',
  'mxc1.pure.cloud': 'prod-mxc1',
  'sae1.pure.cloud': 'prod-sae1',
  'mypurecloud.ie': 'prod-euw1',
  'euw2.pure.cloud': 'prod-euw2',
  'mypurecloud.de': 'prod-euc1',
  'euc2.pure.cloud': 'prod-euc2',
  'mec1.pure.cloud': 'prod-mec1',
  'aps1.pure.cloud': 'prod-aps1',
  'mypurecloud.jp': 'prod-apne1',
  'apne2.pure.cloud': 'prod-apne2',
  'apne3.pure.cloud': 'prod-apne3',
  'apse1.pure.cloud': 'prod-apse1',
  'mypurecloud.com.au': 'prod-apse2',
};

/** The environment served when no region is set (only possible when both Genesys base URLs are overridden, e.g. a sandbox). */
export const LOCAL_MESSENGER_ENVIRONMENT = 'local';

/**
 * The Messenger environment for `GENESYS_REGION`, or a ConfigError naming GENESYS_REGION
 * for a region the Messenger does not know (so the function fails at cold start instead of
 * serving a snippet that loads nothing).
 */
export function messengerEnvironment(region: string): string {
  if (region === '') return LOCAL_MESSENGER_ENVIRONMENT;
  const environment = Object.hasOwn(MESSENGER_ENVIRONMENTS, region) ? MESSENGER_ENVIRONMENTS[region] : undefined;
  if (environment === undefined) {
    throw new ConfigError(
      `GENESYS_REGION "${region}" has no known Messenger environment; use one of ${Object.keys(MESSENGER_ENVIRONMENTS).join(', ')}`,
      ['GENESYS_REGION'],
    );
  }
  return environment;
}
