/**
 * `npm run connect-eventbridge`'s work against the sandbox Genesys (docs/api.md section 3):
 * the `amazon-eventbridge-source` integration is created, configured with the AWS
 * account, region, suffix and the three topics, and enabled; a second run changes nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectEventBridge, operatorSteps } from '#lib/events';
import { GenesysClient, genesysOperations } from '#lib/genesys';
import { startGenesysSandboxV2, type GenesysSandboxV2 } from '#local/sandbox/genesys/index.ts';
import { tokenFor } from '#test/unit/local/sandbox/support.ts';

const CLIENT = { clientId: 'connect-client', clientSecret: 'connect-secret' };
const TARGET = { awsAccountId: '123456789012', awsRegion: 'eu-west-1', eventSourceSuffix: 'guest-sync' };
const TOPICS = ['customer.start', 'attributes', 'customer.end'].map((topic) => `v2.detail.events.conversation.{id}.${topic}`);

describe('connectEventBridge', () => {
  let sandbox: GenesysSandboxV2;
  let client: GenesysClient;

  beforeEach(async () => {
    sandbox = await startGenesysSandboxV2({ clients: [CLIENT] });
    client = new GenesysClient({
      apiBaseUrl: sandbox.url,
      tokens: { getToken: () => tokenFor(sandbox.url, CLIENT.clientId, CLIENT.clientSecret), invalidate: () => undefined },
    });
  });

  afterEach(async () => {
    await sandbox.close();
  });

  const writes = () => sandbox.state().requests.filter((r) => ['postIntegrations', 'putIntegrationConfigCurrent', 'patchIntegration'].includes(r.operation));

  it('creates, configures and enables the integration, which Genesys then reports Active', async () => {
    // Act
    const connection = await connectEventBridge(client, TARGET);

    // Assess
    expect(connection).toMatchObject({ created: true, configured: true, enabled: true, reportedState: 'Active' });
    const [integration, ...others] = sandbox.state().integrations as Array<Record<string, any>>;
    expect(others).toHaveLength(0);
    expect(integration).toMatchObject({
      integrationType: { id: 'amazon-eventbridge-source' },
      intendedState: 'ENABLED',
      reportedState: { code: 'ACTIVE' },
      config: { current: { properties: { awsAccountId: '123456789012', awsAccountRegion: 'eu-west-1', eventSourceSuffix: 'guest-sync', eventFilter: TOPICS } } },
    });
  });

  it('changes nothing when run again', async () => {
    // Prepare
    await connectEventBridge(client, TARGET);
    const before = sandbox.state().integrations;
    const writesBefore = writes().length;

    // Act
    const again = await connectEventBridge(client, TARGET);

    // Assess
    expect(again).toMatchObject({ created: false, configured: false, enabled: false });
    expect(writes()).toHaveLength(writesBefore);
    expect(sandbox.state().integrations).toEqual(before);
  });

  it('brings back an integration someone disabled or reconfigured, with the current configuration version', async () => {
    // Prepare
    const { integrationId } = await connectEventBridge(client, TARGET);
    await client.call(genesysOperations.patchIntegration, { params: { integrationId }, body: { intendedState: 'DISABLED' } });

    // Act
    const again = await connectEventBridge(client, { ...TARGET, awsRegion: 'us-east-1' });

    // Assess
    expect(again).toMatchObject({ integrationId, created: false, configured: true, enabled: true, reportedState: 'Active' });
    const [integration] = sandbox.state().integrations as Array<Record<string, any>>;
    expect(integration?.['config'].current).toMatchObject({ version: 3, properties: { awsAccountRegion: 'us-east-1' } });
  });

  it('tells the operator the partner event source and the deployment that associates it', () => {
    // Act
    const text = operatorSteps(TARGET, '6a3b1c2d-0e4f-4a5b-8c6d-7e8f9a0b1c2d').join('\n');

    // Assess
    expect(text).toContain('aws.partner/genesys.com/cloud/6a3b1c2d-0e4f-4a5b-8c6d-7e8f9a0b1c2d/guest-sync');
    expect(text).toContain('--param="eventSourceSuffix=guest-sync"');
    expect(text).toContain('Partner event sources');
  });
});
