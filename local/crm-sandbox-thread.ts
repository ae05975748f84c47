/**
 * The local stack's CRM sandbox on its own thread (started by `startLocalCrm`,
 * local/crm-sandbox.ts): the `rest` sandbox or the provider sandbox `provider` names, with
 * the options it was given (plain data: tokens, credentials, key names), on 127.0.0.1. The
 * stack and the tests reach it over HTTP only (its API and its `/__sandbox/*` controls).
 */
import type { CrmProviderName } from '#lib/crm/adapter.ts';
import { startCrmSandbox, type CrmSandboxOptions } from './sandbox/index.ts';
import { startCrmProviderSandbox, type CrmProviderSandboxOptions } from './sandbox/crm-providers/index.ts';
import { serveFromThread, threadData } from './threads.ts';

const { provider, options } = threadData<{ provider: CrmProviderName; options: Record<string, unknown> }>();

serveFromThread(async (port) => {
  const sandbox =
    provider === 'rest'
      ? await startCrmSandbox({ ...(options as unknown as CrmSandboxOptions), port })
      : await startCrmProviderSandbox(provider, { ...(options as unknown as CrmProviderSandboxOptions[typeof provider]), port });
  return { port: Number(new URL(sandbox.url).port), close: () => sandbox.close() };
});
