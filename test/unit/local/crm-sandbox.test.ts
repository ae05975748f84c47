/**
 * The local stack's CRM for each `CRM_PROVIDER`: the sandbox it starts accepts what the
 * provider's adapter does with the settings the stack hands the functions and the CRM
 * secret of local/secrets.sample.json (HubSpot's private app token, the Salesforce and
 * identity platform client-credentials flows), and an environment that points the adapter
 * at another server starts no sandbox.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import { SecretCache } from '#lib/auth';
import { createCrmAdapter } from '#lib/crm/providers';
import type { CrmProviderName } from '#lib/crm/adapter.ts';
import { externalCrmUrl, localCrmProvider, startLocalCrm, type LocalCrm } from '#local/crm-sandbox.ts';
import { StackStartError } from '#local/ports.ts';
import { readSecretsFile, startLocalSecretsManager, type LocalSecretsManager } from '#local/secrets-manager.ts';

const SECRET_ID = 'genesys-guest-sync/local/crm-credentials';
const sample = () => readSecretsFile(new URL('../../../local/secrets.sample.json', import.meta.url).pathname);

let crm: LocalCrm | undefined;
let secrets: LocalSecretsManager | undefined;
afterEach(async () => {
  await crm?.close();
  await secrets?.close();
  crm = undefined;
  secrets = undefined;
});

describe('the local stack CRM', () => {
  it.each<[CrmProviderName, string]>([
    ['hubspot', 'guest_sync_source_updated_at'],
    ['salesforce', 'GS_Source_Updated_At__c'],
    ['dynamics', 'gs_sourceupdatedat'],
  ])('runs the %s sandbox the adapter reaches with the stack settings and the sample secret', async (provider, sourceField) => {
    // Prepare
    const values = await sample();
    crm = await startLocalCrm({ port: 0, env: { CRM_PROVIDER: provider }, secrets: values, secretId: SECRET_ID });
    secrets = await startLocalSecretsManager(values);
    const client = new SecretsManagerClient({ region: 'us-east-1', endpoint: secrets.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const adapter = createCrmAdapter({
      provider,
      secrets: new SecretCache({ client }),
      secretId: SECRET_ID,
      ...(crm.env['CRM_BASE_URL'] ? { baseUrl: crm.env['CRM_BASE_URL'] } : {}),
      ...(crm.env['CRM_TOKEN_URL'] ? { tokenUrl: crm.env['CRM_TOKEN_URL'] } : {}),
      ...(crm.env['HUBSPOT_ID_PROPERTY'] ? { hubspotIdProperty: crm.env['HUBSPOT_ID_PROPERTY'] } : {}),
      ...(crm.env['SALESFORCE_EXTERNAL_ID_FIELD'] ? { salesforceExternalIdField: crm.env['SALESFORCE_EXTERNAL_ID_FIELD'] } : {}),
      ...(crm.env['DYNAMICS_URL'] ? { dynamicsUrl: crm.env['DYNAMICS_URL'] } : {}),
      ...(crm.env['DYNAMICS_ALTERNATE_KEY'] ? { dynamicsAlternateKey: crm.env['DYNAMICS_ALTERNATE_KEY'] } : {}),
    });
    const at = '2026-03-01T09:00:00.000Z';

    // Act
    const outcome = await adapter.upsert([{ externalId: 'guest-local-1', attributes: { tier: 'gold' }, lastInteraction: at, sourceUpdatedAt: at }], { timeoutMs: 5_000 });
    client.destroy();

    // Assess
    expect(outcome).toMatchObject({ kind: 'ok', results: [{ externalId: 'guest-local-1' }] });
    const state = (await (await fetch(`${crm.url}/__sandbox/state`)).json()) as { records: Record<string, { history: string[]; fields: Record<string, unknown> }> };
    expect(state.records['guest-local-1']).toMatchObject({ history: [at], fields: { [sourceField]: at } });
    expect(crm).toMatchObject({ provider, sandbox: true });
  });

  it('keeps the rest sandbox as the default', async () => {
    // Act
    crm = await startLocalCrm({ port: 0, env: {}, secrets: await sample(), secretId: SECRET_ID });

    // Assess
    expect(crm).toMatchObject({ provider: 'rest', sandbox: true, env: { CRM_BASE_URL: crm.url } });
  });

  it('names the missing key of the CRM secret for the chosen provider', async () => {
    // Act
    const started = startLocalCrm({ port: 0, env: { CRM_PROVIDER: 'hubspot' }, secrets: { [SECRET_ID]: { apiToken: 'only-rest' } }, secretId: SECRET_ID });

    // Assess
    await expect(started).rejects.toThrow(new StackStartError(`The local secrets file must hold "${SECRET_ID}" with a "accessToken" string for CRM_PROVIDER=hubspot (see local/secrets.sample.json).`));
  });

  it('refuses a CRM_PROVIDER the suite does not know', () => {
    // Act
    const choose = () => localCrmProvider({ CRM_PROVIDER: 'zoho' });

    // Assess
    expect(choose).toThrow(StackStartError);
    expect(choose).toThrow('CRM_PROVIDER is "zoho"; it must be one of rest, hubspot, salesforce, dynamics.');
  });

  it.each<[CrmProviderName, NodeJS.ProcessEnv, Record<string, unknown>, string | undefined]>([
    ['rest', { CRM_BASE_URL: 'https://crm.example.com/api' }, {}, 'https://crm.example.com/api'],
    ['hubspot', { CRM_BASE_URL: 'https://api.hubapi.com' }, {}, 'https://api.hubapi.com'],
    ['hubspot', { DYNAMICS_URL: 'https://org.crm.dynamics.com' }, {}, undefined],
    ['salesforce', { CRM_TOKEN_URL: 'https://login.salesforce.com/services/oauth2/token' }, {}, 'https://login.salesforce.com'],
    ['salesforce', {}, { loginUrl: 'https://acme.my.salesforce.com' }, 'https://acme.my.salesforce.com'],
    ['salesforce', {}, {}, undefined],
    ['dynamics', { DYNAMICS_URL: 'https://org.crm.dynamics.com' }, {}, 'https://org.crm.dynamics.com'],
    ['dynamics', {}, {}, undefined],
  ])('for %s with %o and a secret %o, points at %s instead of a sandbox', (provider, env, secret, expected) => {
    // Act
    const url = externalCrmUrl(provider, env, secret);

    // Assess
    expect(url).toBe(expected);
  });

  it('starts no sandbox when the environment names the CRM', async () => {
    // Act
    crm = await startLocalCrm({ port: 0, env: { CRM_PROVIDER: 'dynamics', DYNAMICS_URL: 'https://org.crm.dynamics.com' }, secrets: {}, secretId: SECRET_ID });

    // Assess
    expect(crm).toMatchObject({ provider: 'dynamics', url: 'https://org.crm.dynamics.com', sandbox: false, env: {} });
  });
});
