/**
 * The local stack's CRM: the sandbox of the provider `CRM_PROVIDER` names (`rest` by
 * default: local/sandbox/crm.ts; `hubspot`, `salesforce`, `dynamics`: the provider
 * sandboxes of local/sandbox/crm-providers), on the stack's CRM port, with the variables
 * the provider's adapter needs to reach it (its API host, its token endpoint, its unique
 * key). The credentials come from the local CRM secret, so the sandbox accepts exactly what
 * the worker reads from Secrets Manager. When the environment points the adapter at another
 * server, no sandbox starts and the variables pass through untouched.
 *
 * The sandbox runs on a worker thread of its own (local/crm-sandbox-thread.ts,
 * local/threads.ts): at the provider's limit it answers hundreds of upserts a second, work
 * that would otherwise share the stack's main thread with the event source and the other
 * emulators. Everyone reaches it over HTTP (its API, its `/__sandbox/*` state and controls).
 */
import { CRM_PROVIDERS, type CrmProviderName } from '#lib/crm/adapter.ts';
import { StackStartError } from './ports.ts';
import { startServerThread } from './threads.ts';

/** The unique keys the local stack gives each provider unless the environment names others (the sandboxes' own defaults). */
export const LOCAL_CRM_KEYS = {
  hubspotIdProperty: 'guest_sync_external_id',
  salesforceExternalIdField: 'GS_External_Id__c',
  dynamicsAlternateKey: 'gs_externalid',
} as const;

/** The CRM the local stack runs or points at. */
export interface LocalCrm {
  provider: CrmProviderName;
  /** Where the CRM listens (the sandbox, or the server the environment names). */
  url: string;
  /** True when the stack started a sandbox (its `/__sandbox/*` controls are there). */
  sandbox: boolean;
  /** Variables the functions get on top of the environment, so the adapter reaches the sandbox. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** The provider `CRM_PROVIDER` names (default `rest`); a name the suite does not know stops the start. */
export function localCrmProvider(env: NodeJS.ProcessEnv): CrmProviderName {
  const named = env['CRM_PROVIDER'] || 'rest';
  if (!(CRM_PROVIDERS as readonly string[]).includes(named)) {
    throw new StackStartError(`CRM_PROVIDER is "${named}"; it must be one of ${CRM_PROVIDERS.join(', ')}.`);
  }
  return named as CrmProviderName;
}

/** One key of the CRM secret, or a start error naming the secret, the key and the provider. */
function secretKey(secret: Record<string, unknown> | undefined, secretId: string, key: string, provider: CrmProviderName): string {
  const value = secret?.[key];
  if (typeof value !== 'string' || value === '') {
    throw new StackStartError(`The local secrets file must hold "${secretId}" with a "${key}" string for CRM_PROVIDER=${provider} (see local/secrets.sample.json).`);
  }
  return value;
}

/**
 * Where the environment sends the chosen provider's adapter somewhere other than a local
 * sandbox, if it does: `CRM_BASE_URL` for every provider; for Salesforce also
 * `CRM_TOKEN_URL` or a `loginUrl` in the secret; for Dynamics also `DYNAMICS_URL` or `CRM_TOKEN_URL`.
 */
export function externalCrmUrl(provider: CrmProviderName, env: NodeJS.ProcessEnv, secret: Record<string, unknown> | undefined): string | undefined {
  const set = (name: string): string | undefined => (env[name] ? env[name] : undefined);
  const loginUrl = typeof secret?.['loginUrl'] === 'string' && secret['loginUrl'] !== '' ? secret['loginUrl'] : undefined;
  const origin = (url: string | undefined): string | undefined => (url === undefined ? undefined : new URL(url).origin);
  switch (provider) {
    case 'rest':
    case 'hubspot':
      return set('CRM_BASE_URL');
    case 'salesforce':
      return set('CRM_BASE_URL') ?? origin(set('CRM_TOKEN_URL')) ?? loginUrl;
    case 'dynamics':
      return set('CRM_BASE_URL') ?? set('DYNAMICS_URL') ?? origin(set('CRM_TOKEN_URL'));
  }
}

/** Starts the sandbox of the chosen provider on `port` (unless the environment points elsewhere). */
export async function startLocalCrm(options: {
  port: number;
  env: NodeJS.ProcessEnv;
  secrets: Record<string, Record<string, unknown>>;
  secretId: string;
}): Promise<LocalCrm> {
  const { port, env, secretId } = options;
  const provider = localCrmProvider(env);
  const secret = options.secrets[secretId];
  const key = (name: string): string => secretKey(secret, secretId, name, provider);
  const external = externalCrmUrl(provider, env, secret);
  if (external !== undefined) return { provider, url: external, sandbox: false, env: {}, close: async () => undefined };

  /** The sandbox of `provider` with `sandboxOptions`, on its thread, at `http://127.0.0.1:<port>`. */
  const start = async (sandboxOptions: Record<string, unknown>): Promise<{ url: string; close: () => Promise<void> }> => {
    const thread = await startServerThread(new URL('./crm-sandbox-thread.ts', import.meta.url), 'CRM sandbox', port, { provider, options: sandboxOptions });
    return { url: `http://127.0.0.1:${thread.port}`, close: () => thread.close() };
  };

  switch (provider) {
    case 'rest': {
      const sandbox = await start({ apiToken: key('apiToken') });
      return { provider, url: sandbox.url, sandbox: true, env: { CRM_BASE_URL: sandbox.url }, close: () => sandbox.close() };
    }
    case 'hubspot': {
      // A private app token, sent as is; the API host is the sandbox.
      const idProperty = env['HUBSPOT_ID_PROPERTY'] || LOCAL_CRM_KEYS.hubspotIdProperty;
      const sandbox = await start({ accessToken: key('accessToken'), idProperty });
      return { provider, url: sandbox.url, sandbox: true, env: { CRM_BASE_URL: sandbox.url, HUBSPOT_ID_PROPERTY: idProperty }, close: () => sandbox.close() };
    }
    case 'salesforce': {
      // The client-credentials flow at the sandbox's token endpoint; the API host is the
      // `instance_url` it answers with (as with a real org), so CRM_BASE_URL stays unset.
      const externalIdField = env['SALESFORCE_EXTERNAL_ID_FIELD'] || LOCAL_CRM_KEYS.salesforceExternalIdField;
      const sandbox = await start({ clientId: key('clientId'), clientSecret: key('clientSecret'), externalIdField });
      return {
        provider,
        url: sandbox.url,
        sandbox: true,
        env: { CRM_TOKEN_URL: `${sandbox.url}/services/oauth2/token`, SALESFORCE_EXTERNAL_ID_FIELD: externalIdField },
        close: () => sandbox.close(),
      };
    }
    case 'dynamics': {
      // The identity platform's token endpoint for the secret's tenant, the scope `{DYNAMICS_URL}/.default`.
      const tenantId = key('tenantId');
      const alternateKey = env['DYNAMICS_ALTERNATE_KEY'] || LOCAL_CRM_KEYS.dynamicsAlternateKey;
      const sandbox = await start({ tenantId, clientId: key('clientId'), clientSecret: key('clientSecret'), alternateKey });
      return {
        provider,
        url: sandbox.url,
        sandbox: true,
        env: { DYNAMICS_URL: sandbox.url, DYNAMICS_ALTERNATE_KEY: alternateKey, CRM_TOKEN_URL: `${sandbox.url}/${encodeURIComponent(tenantId)}/oauth2/v2.0/token` },
        close: () => sandbox.close(),
      };
    }
  }
}
