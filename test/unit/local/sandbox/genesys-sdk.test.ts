/**
 * The official Genesys Cloud SDK (`purecloud-platform-client-v2`) drives the sandbox Genesys
 * through every operation of docs/api.md section 4: what the real client sends, the sandbox
 * must answer the way the SDK expects. Requests are typed with the SDK's own models.
 */
import platformClient from 'purecloud-platform-client-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGenesysSandboxV2, type GenesysSandboxV2 } from '#local/sandbox/genesys/index.ts';
import { control } from './support.ts';

type ExternalContact = platformClient.Models.ExternalContact;
type DataSchema = platformClient.Models.DataSchema;
type IntegrationConfiguration = platformClient.Models.IntegrationConfiguration;
type ConversationQuery = platformClient.Models.ConversationQuery;
type AuditQueryRequest = platformClient.Models.AuditQueryRequest;
type ErrorBody = platformClient.Models.ErrorBody;

const CLIENT = { clientId: 'sdk-client', clientSecret: 'sdk-secret' };
const DEPLOYMENT_ID = '5e1b9a53-7a7b-4b0c-9a55-2d4ad9a0b6c1';

/** What the SDK rejects with on an error answer: Genesys's error body. */
async function rejection(promise: Promise<unknown>): Promise<ErrorBody> {
  try {
    await promise;
  } catch (error) {
    return error as ErrorBody;
  }
  throw new Error('expected the SDK call to reject');
}

describe('sandbox Genesys driven by the official SDK', () => {
  let sandbox: GenesysSandboxV2;
  const client = platformClient.ApiClient;
  const conversations = new platformClient.ConversationsApi();
  const contacts = new platformClient.ExternalContactsApi();
  const analytics = new platformClient.AnalyticsApi();
  const audits = new platformClient.AuditApi();
  const deployments = new platformClient.WebDeploymentsApi();
  const integrations = new platformClient.IntegrationsApi();

  beforeAll(async () => {
    sandbox = await startGenesysSandboxV2({ clients: [CLIENT], tokenTtlSeconds: 900 });
    // The SDK builds https://api.{environment}; a gateway is its documented way to a custom host.
    client.setGateway({ host: '127.0.0.1', protocol: 'http', port: sandbox.port });
  });

  afterAll(async () => {
    // `setGateway()` without a gateway falls back to the environment (the SDK README's way to undo it).
    client.setGateway(undefined as never);
    await sandbox.close();
  });

  it('logs in with loginClientCredentialsGrant and keeps the token the sandbox issued', async () => {
    // Act
    const auth = await client.loginClientCredentialsGrant(CLIENT.clientId, CLIENT.clientSecret);

    // Assess
    expect(auth.accessToken).toEqual(expect.any(String));
    expect(auth.tokenExpiryTime).toBeGreaterThan(Date.now() + 800_000);
    expect(sandbox.state().tokensIssued).toBe(1);
  });

  describe('guest set-up, contacts and lookup', () => {
    let sourceId: string;
    let schema: DataSchema;
    let contact: ExternalContact;

    it('creates and finds the external source (postExternalcontactsExternalsources, getExternalcontactsExternalsources)', async () => {
      // Act
      const created = await contacts.postExternalcontactsExternalsources({ name: 'genesys-guest-sync', active: true });
      const listed = await contacts.getExternalcontactsExternalsources({ name: 'genesys-guest-sync', limit: 10 });

      // Assess
      expect(created).toMatchObject({ id: expect.any(String), name: 'genesys-guest-sync', active: true });
      expect(listed.entities?.map((source) => source.id)).toEqual([created.id]);
      sourceId = created.id as string;
    });

    it('creates and lists the contact schema (postExternalcontactsContactsSchemas, getExternalcontactsContactsSchemas)', async () => {
      // Prepare
      const body: DataSchema = {
        version: 1,
        jsonSchema: {
          title: 'Guest',
          description: 'A web messaging guest',
          properties: { tier_text: { type: 'string' }, consent_checkbox: { type: 'boolean' } },
        },
      };

      // Act
      schema = await contacts.postExternalcontactsContactsSchemas(body);
      const listing = await contacts.getExternalcontactsContactsSchemas();

      // Assess
      expect(schema).toMatchObject({ id: expect.any(String), version: 1, jsonSchema: { title: 'Guest' } });
      expect(listing.total).toBe(1);
      expect(listing.entities?.[0]?.id).toBe(schema.id);
    });

    it('creates, reads and replaces a contact (postExternalcontactsContacts, getExternalcontactsContact, putExternalcontactsContact)', async () => {
      // Prepare
      const body: ExternalContact = {
        externalIds: [{ externalSource: { id: sourceId, name: 'genesys-guest-sync' }, value: 'email-hash-1' }],
        schema: { id: schema.id, version: 1, jsonSchema: {} },
        customFields: { tier_text: 'gold' as unknown as object, consent_checkbox: true as unknown as object },
      };

      // Act
      contact = await contacts.postExternalcontactsContacts(body);
      const read = await contacts.getExternalcontactsContact(contact.id as string);
      sandbox.clock.advance(1_000);
      const replaced = await contacts.putExternalcontactsContact(contact.id as string, {
        externalIds: body.externalIds,
        schema: body.schema,
        customFields: { tier_text: 'platinum' as unknown as object },
      });

      // Assess
      expect(read).toEqual(contact);
      expect(contact.createDate).toEqual(contact.modifyDate);
      expect(replaced.customFields).toEqual({ tier_text: 'platinum' });
      expect(replaced.createDate).toBe(contact.createDate);
      expect(Date.parse(replaced.modifyDate as string)).toBeGreaterThan(Date.parse(contact.modifyDate as string));
    });

    it('finds the contact by its hashed identifier and answers 404 for another (postExternalcontactsIdentifierlookupContacts)', async () => {
      // Act
      const found = await contacts.postExternalcontactsIdentifierlookupContacts({
        type: 'ExternalId',
        value: 'email-hash-1',
        externalSource: { id: sourceId, name: 'genesys-guest-sync' },
      });
      const missing = await rejection(contacts.postExternalcontactsIdentifierlookupContacts({ type: 'ExternalId', value: 'nobody' }));

      // Assess
      expect(found.id).toBe(contact.id);
      expect(missing).toMatchObject({ status: 404, code: 'not.found', contextId: expect.any(String) });
    });

    describe('a conversation of that guest', () => {
      let conversationId: string;
      let customerId: string;

      it('shows the Messenger custom attributes on the customer participant (getConversation)', async () => {
        // Prepare
        const started = await control<{ conversationId: string; customerParticipantId: string }>(
          sandbox.url,
          'POST',
          '/__sandbox/messenger/conversations',
          { deploymentId: DEPLOYMENT_ID, customAttributes: { gsRef: 'ref-1', tier: 'gold' }, externalContactId: contact.id },
        );
        conversationId = started.conversationId;
        customerId = started.customerParticipantId;

        // Act
        const conversation = await conversations.getConversation(conversationId);

        // Assess
        const customer = conversation.participants.find((participant) => participant.purpose === 'customer');
        expect(customer).toMatchObject({ id: customerId, attributes: { gsRef: 'ref-1', tier: 'gold' } });
        expect(conversation.participants.map((participant) => participant.purpose)).toEqual(['customer', 'acd']);
        expect(conversation.startTime).toEqual(expect.any(String));
      });

      it('merges a participant-attributes PATCH (patchConversationParticipantAttributes)', async () => {
        // Act
        const answer = await conversations.patchConversationParticipantAttributes(conversationId, customerId, {
          attributes: { tier: 'platinum', verified: 'true' },
        });
        const conversation = await conversations.getConversation(conversationId);

        // Assess
        expect(answer).toBeUndefined();
        expect(conversation.participants[0]?.attributes).toEqual({ gsRef: 'ref-1', tier: 'platinum', verified: 'true' });
      });

      it('finds the conversation by the guest and reads its details (postAnalyticsConversationsDetailsQuery, getAnalyticsConversationDetails)', async () => {
        // Prepare
        const now = sandbox.clock.now();
        const query: ConversationQuery = {
          interval: `${new Date(now - 3_600_000).toISOString()}/${new Date(now + 3_600_000).toISOString()}`,
          order: 'desc',
          segmentFilters: [{ type: 'and', predicates: [{ type: 'dimension', dimension: 'externalContactId', operator: 'matches', value: contact.id }] }],
          paging: { pageSize: 25, pageNumber: 1 },
        };

        // Act
        const result = await analytics.postAnalyticsConversationsDetailsQuery(query);
        const details = await analytics.getAnalyticsConversationDetails(conversationId);

        // Assess
        expect(result.totalHits).toBe(1);
        expect(result.conversations?.[0]?.conversationId).toBe(conversationId);
        expect(details.participants?.[0]).toMatchObject({ purpose: 'customer', externalContactId: contact.id });
        expect(details.participants?.[0]?.sessions?.[0]).toMatchObject({ mediaType: 'message', messageType: 'webmessaging', mediaCount: 1 });
      });
    });
  });

  it('answers an Active web deployment (getWebdeploymentsDeployment)', async () => {
    // Act
    const deployment = await deployments.getWebdeploymentsDeployment(DEPLOYMENT_ID);

    // Assess
    expect(deployment).toMatchObject({ id: DEPLOYMENT_ID, status: 'Active', configuration: { id: expect.any(String), version: '1' } });
  });

  describe('the EventBridge integration and its audit trail', () => {
    let integrationId: string;

    it('creates, configures and enables an amazon-eventbridge-source integration (postIntegrations, putIntegrationConfigCurrent, patchIntegration, getIntegrations)', async () => {
      // Prepare
      const created = await integrations.postIntegrations({
        body: { name: 'Guest sync events', integrationType: { id: 'amazon-eventbridge-source' } },
      });
      integrationId = created.id as string;
      const config: IntegrationConfiguration = {
        name: 'Guest sync events',
        version: created.config?.current?.version as number,
        properties: {
          awsAccountId: '123456789012',
          awsAccountRegion: 'eu-west-1',
          eventSourceSuffix: 'guest-sync',
          eventFilter: ['v2.detail.events.conversation.{id}.customer.start', 'v2.detail.events.conversation.{id}.attributes'],
        },
        advanced: {},
        notes: '',
        credentials: {},
      };

      // Act
      const stored = await integrations.putIntegrationConfigCurrent(integrationId, { body: config });
      const enabled = await integrations.patchIntegration(integrationId, { body: { intendedState: 'ENABLED' } });
      const listing = await integrations.getIntegrations({ pageSize: 25, pageNumber: 1, expand: ['config.current'] });

      // Assess
      expect(created).toMatchObject({ intendedState: 'DISABLED', integrationType: { id: 'amazon-eventbridge-source' } });
      expect(stored.version).toBe(2);
      expect(enabled).toMatchObject({ intendedState: 'ENABLED', reportedState: { code: 'ACTIVE' } });
      expect(listing.total).toBe(1);
      expect(listing.entities?.[0]?.config?.current?.properties).toMatchObject({ eventSourceSuffix: 'guest-sync' });
    });

    it('lists the valid services, runs a query and pages its results (getAuditsQueryServicemapping, postAuditsQuery, getAuditsQueryTransactionId, getAuditsQueryTransactionIdResults)', async () => {
      // Prepare
      const now = sandbox.clock.now();
      const request: AuditQueryRequest = {
        interval: `${new Date(now - 3_600_000).toISOString()}/${new Date(now + 3_600_000).toISOString()}`,
        serviceName: 'Integrations',
        filters: [{ property: 'EntityId', value: integrationId }],
        sort: [{ name: 'Timestamp', sortOrder: 'ascending' }],
      };

      // Act
      const mapping = await audits.getAuditsQueryServicemapping();
      const submitted = await audits.postAuditsQuery(request);
      const status = await audits.getAuditsQueryTransactionId(submitted.id as string);
      const first = await audits.getAuditsQueryTransactionIdResults(submitted.id as string, { pageSize: 2 });
      const second = await audits.getAuditsQueryTransactionIdResults(submitted.id as string, { pageSize: 2, cursor: first.cursor });

      // Assess
      const names = mapping.services?.map((service) => service.name);
      expect(names).toContain('Integrations');
      expect(names).not.toContain('Conversations');
      expect(submitted).toMatchObject({ id: expect.any(String), serviceName: 'Integrations', interval: request.interval });
      expect(status.state).toBe('Succeeded');
      expect(first.entities?.map((entry) => entry.action)).toEqual(['Create', 'Update']);
      expect(first.cursor).toEqual(expect.any(String));
      expect(second.entities?.map((entry) => entry.entity?.id)).toEqual([integrationId]);
      expect(second.cursor).toBeUndefined();
    });

    it('refuses a serviceName Genesys does not accept, such as "Conversations"', async () => {
      // Act
      const error = await rejection(
        audits.postAuditsQuery({ interval: '2025-01-01T00:00:00Z/2025-01-02T00:00:00Z', serviceName: 'Conversations' }),
      );

      // Assess
      expect(error).toMatchObject({ status: 400, code: 'invalid.value', details: [{ fieldName: 'serviceName' }] });
    });
  });
});
