import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { ValidationError } from '#lib/errors';
import { expandPath, genesysOperations } from '#lib/genesys';
import type { GenesysClient, GenesysResponse, Guest, WebDeployment } from '#lib/genesys';
import { caught, startScriptedServer, testClient } from './support.ts';
import type { ScriptedServer } from './support.ts';

const SESSION_ID = '3f2a6c1e-8b7d-4e3f-9a1b-2c3d4e5f6a7b';
const ops = genesysOperations;

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

interface CatalogueCase {
  operation: keyof typeof genesysOperations;
  act: (client: GenesysClient) => Promise<unknown>;
  method: string;
  url: string;
  body?: unknown;
}

const cases: CatalogueCase[] = [
  {
    operation: 'putSessionAttributes',
    act: (c) => c.putSessionAttributes(SESSION_ID, { tier: 'gold', vip: true }),
    method: 'PUT',
    url: `/api/v2/guests/messagesessions/${SESSION_ID}/attributes`,
    body: { attributes: { tier: 'gold', vip: true } },
  },
  {
    operation: 'registerWebhook',
    act: (c) =>
      c.registerWebhook({
        name: 'crm-sync',
        description: 'CRM sync',
        enabled: true,
        type: 'web',
        address: 'https://example.com/webhooks/genesys',
        events: ['guest.session.attributes.updated'],
        filter: '',
        httpHeaders: {},
        secret: 'shh',
      }),
    method: 'POST',
    url: '/api/v2/webhooks',
    body: {
      name: 'crm-sync',
      description: 'CRM sync',
      enabled: true,
      type: 'web',
      address: 'https://example.com/webhooks/genesys',
      events: ['guest.session.attributes.updated'],
      filter: '',
      httpHeaders: {},
      secret: 'shh',
    },
  },
  {
    operation: 'createGuest',
    act: (c) => c.createGuest({ consent: { marketing: false, dataProcessing: true } }),
    method: 'POST',
    url: '/api/v2/conversations/webmessaging/guests',
    body: { consent: { marketing: false, dataProcessing: true } },
  },
  {
    operation: 'getGuest',
    act: (c) => c.getGuest('guest-1'),
    method: 'GET',
    url: '/api/v2/conversations/webmessaging/guests/guest-1',
  },
  {
    operation: 'updateGuest',
    act: (c) => c.updateGuest('guest-1', { attributes: { tier: 'gold' } }, '"v1"'),
    method: 'PATCH',
    url: '/api/v2/conversations/webmessaging/guests/guest-1',
    body: { attributes: { tier: 'gold' } },
  },
  {
    operation: 'submitAuditQuery',
    act: (c) =>
      c.submitAuditQuery({ interval: '2026-01-01T00:00:00Z/2026-01-02T00:00:00Z', serviceName: 'Conversations' }),
    method: 'POST',
    url: '/api/v2/audits/query',
    body: { interval: '2026-01-01T00:00:00Z/2026-01-02T00:00:00Z', serviceName: 'Conversations' },
  },
  {
    operation: 'getAuditQuery',
    act: (c) => c.getAuditQuery('tx-1'),
    method: 'GET',
    url: '/api/v2/audits/query/tx-1',
  },
  {
    operation: 'getAuditQueryResults',
    act: (c) => c.getAuditQueryResults('tx-1', { cursor: 'next page', pageSize: 50 }),
    method: 'GET',
    url: '/api/v2/audits/query/tx-1/results?cursor=next+page&pageSize=50',
  },
  {
    operation: 'createConversation',
    act: (c) =>
      c.createConversation({
        channel: 'web-messaging',
        routing: { queueId: 'queue-gold' },
        contact: { attributes: { loyaltyTier: 'gold' } },
      }),
    method: 'POST',
    url: '/api/v2/webmessaging/conversations',
    body: { channel: 'web-messaging', routing: { queueId: 'queue-gold' }, contact: { attributes: { loyaltyTier: 'gold' } } },
  },
  {
    operation: 'updateContact',
    act: (c) => c.updateContact('conv-1', { loyaltyPoints: 120 }),
    method: 'PUT',
    url: '/api/v2/webmessaging/conversations/conv-1/contact',
    body: { attributes: { loyaltyPoints: 120 } },
  },
  {
    operation: 'getConversation',
    act: (c) => c.getConversation('conv-1'),
    method: 'GET',
    url: '/api/v2/conversations/conv-1',
  },
  {
    operation: 'getWebDeployment',
    act: (c) => c.getWebDeployment('dep-1'),
    method: 'GET',
    url: '/api/v2/webdeployments/deployments/dep-1',
  },
  // The section 4 operations, sent through the generic call until their capabilities use them.
  {
    operation: 'patchParticipantAttributes',
    act: (c) => c.call(ops.patchParticipantAttributes, { params: { conversationId: 'conv-1', participantId: 'part-1' }, body: { attributes: { tier: 'gold' } } }),
    method: 'PATCH',
    url: '/api/v2/conversations/conv-1/participants/part-1/attributes',
    body: { attributes: { tier: 'gold' } },
  },
  {
    operation: 'createExternalContact',
    act: (c) => c.call(ops.createExternalContact, { params: {}, body: { externalIds: [{ externalSource: { id: 'src-1' }, value: 'a'.repeat(64) }] } }),
    method: 'POST',
    url: '/api/v2/externalcontacts/contacts',
    body: { externalIds: [{ externalSource: { id: 'src-1' }, value: 'a'.repeat(64) }] },
  },
  {
    operation: 'getExternalContact',
    act: (c) => c.call(ops.getExternalContact, { params: { contactId: 'contact-1' } }),
    method: 'GET',
    url: '/api/v2/externalcontacts/contacts/contact-1',
  },
  {
    operation: 'updateExternalContact',
    act: (c) => c.call(ops.updateExternalContact, { params: { contactId: 'contact-1' }, body: { customFields: { tier_text: 'gold' } } }),
    method: 'PUT',
    url: '/api/v2/externalcontacts/contacts/contact-1',
    body: { customFields: { tier_text: 'gold' } },
  },
  {
    operation: 'lookupContactByIdentifier',
    act: (c) => c.call(ops.lookupContactByIdentifier, { params: {}, body: { type: 'ExternalId', value: 'a'.repeat(64), externalSource: { id: 'src-1' } } }),
    method: 'POST',
    url: '/api/v2/externalcontacts/identifierlookup/contacts',
    body: { type: 'ExternalId', value: 'a'.repeat(64), externalSource: { id: 'src-1' } },
  },
  {
    operation: 'listExternalSources',
    act: (c) => c.call(ops.listExternalSources, { params: {}, query: { name: 'genesys-guest-sync' } }),
    method: 'GET',
    url: '/api/v2/externalcontacts/externalsources?name=genesys-guest-sync',
  },
  {
    operation: 'createExternalSource',
    act: (c) => c.call(ops.createExternalSource, { params: {}, body: { name: 'genesys-guest-sync', active: true } }),
    method: 'POST',
    url: '/api/v2/externalcontacts/externalsources',
    body: { name: 'genesys-guest-sync', active: true },
  },
  {
    operation: 'listContactSchemas',
    act: (c) => c.call(ops.listContactSchemas, { params: {} }),
    method: 'GET',
    url: '/api/v2/externalcontacts/contacts/schemas',
  },
  {
    operation: 'createContactSchema',
    act: (c) => c.call(ops.createContactSchema, { params: {}, body: { name: 'guest', version: 0, jsonSchema: { properties: {} } } }),
    method: 'POST',
    url: '/api/v2/externalcontacts/contacts/schemas',
    body: { name: 'guest', version: 0, jsonSchema: { properties: {} } },
  },
  {
    operation: 'queryConversationDetails',
    act: (c) =>
      c.call(ops.queryConversationDetails, {
        params: {},
        body: { interval: '2026-01-01T00:00:00Z/2026-01-31T00:00:00Z', segmentFilters: [{ type: 'and', predicates: [{ dimension: 'externalContactId', value: 'contact-1' }] }] },
      }),
    method: 'POST',
    url: '/api/v2/analytics/conversations/details/query',
    body: { interval: '2026-01-01T00:00:00Z/2026-01-31T00:00:00Z', segmentFilters: [{ type: 'and', predicates: [{ dimension: 'externalContactId', value: 'contact-1' }] }] },
  },
  {
    operation: 'getConversationDetails',
    act: (c) => c.call(ops.getConversationDetails, { params: { conversationId: 'conv-1' } }),
    method: 'GET',
    url: '/api/v2/analytics/conversations/conv-1/details',
  },
  {
    operation: 'getAuditServiceMapping',
    act: (c) => c.call(ops.getAuditServiceMapping, { params: {} }),
    method: 'GET',
    url: '/api/v2/audits/query/servicemapping',
  },
  {
    operation: 'listIntegrations',
    act: (c) => c.call(ops.listIntegrations, { params: {}, query: { pageSize: 100, pageNumber: 1 } }),
    method: 'GET',
    url: '/api/v2/integrations?pageSize=100&pageNumber=1',
  },
  {
    operation: 'createIntegration',
    act: (c) => c.call(ops.createIntegration, { params: {}, body: { name: 'EventBridge', integrationType: { id: 'amazon-eventbridge-source' } } }),
    method: 'POST',
    url: '/api/v2/integrations',
    body: { name: 'EventBridge', integrationType: { id: 'amazon-eventbridge-source' } },
  },
  {
    operation: 'putIntegrationConfig',
    act: (c) =>
      c.call(ops.putIntegrationConfig, {
        params: { integrationId: 'int-1' },
        body: { name: 'EventBridge', version: 1, properties: { awsAccountId: '123456789012' }, advanced: {}, notes: '', credentials: {} },
      }),
    method: 'PUT',
    url: '/api/v2/integrations/int-1/config/current',
    body: { name: 'EventBridge', version: 1, properties: { awsAccountId: '123456789012' }, advanced: {}, notes: '', credentials: {} },
  },
  {
    operation: 'patchIntegration',
    act: (c) => c.call(ops.patchIntegration, { params: { integrationId: 'int-1' }, body: { intendedState: 'ENABLED' } }),
    method: 'PATCH',
    url: '/api/v2/integrations/int-1',
    body: { intendedState: 'ENABLED' },
  },
];

describe('Genesys operation catalogue', () => {
  it('covers every operation of contract section 4 except token, each exactly once', () => {
    // Prepare
    const entries = Object.entries(genesysOperations);

    // Act
    const routes = entries.map(([, op]) => `${op.method} ${op.path}`);

    // Assess
    expect(entries.map(([key]) => key).sort()).toEqual(cases.map((c) => c.operation).sort());
    for (const [key, op] of entries) expect(op.name).toBe(key);
    expect(new Set(routes).size).toBe(routes.length);
  });

  describe.each(cases)('$operation', ({ operation, act, method, url, body }) => {
    it(`sends ${method} ${url.split('?')[0]} with a bearer token and the expected body`, async () => {
      // Prepare
      const success = genesysOperations[operation].success[0] ?? 200;
      server = await startScriptedServer([{ status: success, body: { id: 'x', state: 'Queued' } }]);
      const { client } = testClient(server.url);

      // Act
      await act(client);

      // Assess
      expect(server.requests).toHaveLength(1);
      const [request] = server.requests;
      expect(request?.method).toBe(method);
      expect(request?.url).toBe(url);
      expect(request?.headers.authorization).toBe('Bearer token-1');
      if (body === undefined) {
        expect(request?.body).toBe('');
      } else {
        expect(request?.headers['content-type']).toBe('application/json');
        expect(JSON.parse(request?.body ?? '')).toEqual(body);
      }
    });
  });
});

describe('path parameters', () => {
  describe.each([
    { given: 'a/b', sent: 'a%2Fb' },
    { given: 'a b?c#d', sent: 'a%20b%3Fc%23d' },
    { given: 'ünï', sent: '%C3%BCn%C3%AF' },
    { given: '%2e%2e', sent: '%252e%252e' },
  ])('an id of $given', ({ given, sent }) => {
    it('arrives URL-encoded as one path segment', async () => {
      // Prepare
      server = await startScriptedServer([{ status: 200, body: { id: given } }]);
      const { client } = testClient(server.url);

      // Act
      await client.getGuest(given);

      // Assess
      expect(server.requests[0]?.url).toBe(`/api/v2/conversations/webmessaging/guests/${sent}`);
    });
  });

  describe.each([{ id: '' }, { id: '   ' }, { id: '.' }, { id: '..' }])('an id of "$id"', ({ id }) => {
    it('is refused as a validation error before anything is sent', async () => {
      // Prepare
      server = await startScriptedServer([{ status: 200, body: {} }]);
      const { client, tokens } = testClient(server.url);

      // Act
      const error = await caught(() => client.getGuest(id));

      // Assess
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ status: 400, errors: [{ path: 'guestId' }] });
      expect(server.requests).toHaveLength(0);
      expect(tokens.getTokenCalls).toBe(0);
    });
  });

  it('refuses parameters the path template does not have', () => {
    // Prepare
    const template = genesysOperations.getGuest.path;

    // Act
    const act = () => expandPath(template, { guestId: 'g-1', sessionId: 's-1' });

    // Assess
    expect(act).toThrow(ValidationError);
  });
});

describe('typing', () => {
  it('types params, body and response per operation', () => {
    // Prepare
    const client = testClient('http://127.0.0.1:9').client;

    // Act
    const read = () => client.call(genesysOperations.getWebDeployment, { params: { deploymentId: 'd' } });
    // @ts-expect-error a GET takes no body
    const withBody = () => client.call(genesysOperations.getGuest, { params: { guestId: 'g' }, body: {} });
    // @ts-expect-error the path parameter is sessionId
    const wrongParam = () => client.call(genesysOperations.putSessionAttributes, { params: { guestId: 'g' }, body: { attributes: {} } });

    // Assess
    expectTypeOf(read).returns.resolves.toEqualTypeOf<GenesysResponse<WebDeployment>>();
    expectTypeOf(client.getGuest).returns.resolves.toEqualTypeOf<GenesysResponse<Guest>>();
    expect([withBody, wrongParam]).toHaveLength(2);
  });
});
