/**
 * Runs both sandboxes on their own for manual poking:
 * `npx tsx local/sandbox/main.ts`. Ports, credentials and the CRM token come from
 * GENESYS_SANDBOX_PORT, CRM_SANDBOX_PORT, SANDBOX_GENESYS_CLIENT_ID,
 * SANDBOX_GENESYS_CLIENT_SECRET and SANDBOX_CRM_API_TOKEN (local-only defaults otherwise).
 */
import { startCrmSandbox } from './crm.ts';
import { startGenesysSandboxV2 } from './genesys/index.ts';

function port(name: string): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return 0;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65_535) throw new Error(`${name} must be a port number`);
  return value;
}

const clientId = process.env.SANDBOX_GENESYS_CLIENT_ID ?? 'local-genesys-client';
const genesys = await startGenesysSandboxV2({
  port: port('GENESYS_SANDBOX_PORT'),
  clients: [{ clientId, clientSecret: process.env.SANDBOX_GENESYS_CLIENT_SECRET ?? 'local-genesys-secret' }],
});
const crm = await startCrmSandbox({
  port: port('CRM_SANDBOX_PORT'),
  apiToken: process.env.SANDBOX_CRM_API_TOKEN ?? 'local-crm-token',
});
process.stdout.write(`Genesys sandbox: ${genesys.url} (client id ${clientId})\nCRM sandbox:     ${crm.url}\n`);

const stop = (): void => {
  void Promise.all([genesys.close(), crm.close()]).then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
