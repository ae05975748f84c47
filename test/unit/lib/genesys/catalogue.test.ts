import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { ValidationError } from '#lib/errors';
import { GenesysError, genesysOperations } from '#lib/genesys';
import { expandPath } from '#lib/genesys/operations.ts';
import type { ExternalContact, GenesysClient } from '#lib/genesys';
import type { GenesysResponse } from '#lib/genesys/client.ts';
import type { WebDeployment } from '#lib/genesys/operations.ts';
import { caught, testClient } from './support.ts';
import { startScriptedServer } from '#test/support/scripted-server.ts';
import type { ScriptedServer } from '#test/support/scripted-server.ts';

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
    operation: 'getConversation',
    act: (c) => c.call(ops.getConversation, { params: { conversationId: 'conv-1' } }),
    method: 'GET',
    url: '/api/v2/conversations/conv-1',
  },
  {
    operation: 'submitAuditQuery',
    act: (c) =>
      c.call(ops.submitAuditQuery, {
        body: {
          interval: '2026-01-01T00:00:00Z/2026-01-02T00:00:00Z',
          serviceName: 'ExternalContacts',
          filters: [{ property: 'EntityId', value: 'contact-1' }],
          sort: [{ name: 'Timestamp', sortOrder: 'ascending' }],
        },
      }),
    method: 'POST',
    url: '/api/v2/audits/query',
    body: {
      interval: '2026-01-01T00:00:00Z/2026-01-02T00:00:00Z',
      serviceName: 'ExternalContacts',
      filters: [{ property: 'EntityId', value: 'contact-1' }],
      sort: [{ name: 'Timestamp', sortOrder: 'ascending' }],
    },
  },
  {
    operation: 'getAuditQuery',
    act: (c) => c.call(ops.getAuditQuery, { params: { transactionId: 'tx-1' } }),
    method: 'GET',
    url: '/api/v2/audits/query/tx-1',
  },
  {
    operation: 'getAuditQueryResults',
    act: (c) => c.call(ops.getAuditQueryResults, { params: { transactionId: 'tx-1' }, query: { cursor: 'next page', pageSize: 50 } }),
    method: 'GET',
    url: '/api/v2/audits/query/tx-1/results?cursor=next+page&pageSize=50',
  },
  {
    operation: 'getWebDeployment',
    act: (c) => c.call(ops.getWebDeployment, { params: { deploymentId: 'dep-1' } }),
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

/**
 * docs/api.md section 4 (the token operation aside, which `#lib/auth` owns): each row's
 * method and path with the official SDK function it names, and whether a repeat after an
 * unknown outcome is safe (creates are not; reads, the POST reads and the writes that
 * set a state are).
 */
const SECTION_4: Record<string, { sdkFunction: string; repeatable: boolean }> = {
  'PATCH /api/v2/conversations/{conversationId}/participants/{participantId}/attributes': { sdkFunction: 'patchConversationParticipantAttributes', repeatable: true },
  'GET /api/v2/conversations/{conversationId}': { sdkFunction: 'getConversation', repeatable: true },
  'POST /api/v2/externalcontacts/contacts': { sdkFunction: 'postExternalcontactsContacts', repeatable: false },
  'GET /api/v2/externalcontacts/contacts/{contactId}': { sdkFunction: 'getExternalcontactsContact', repeatable: true },
  'PUT /api/v2/externalcontacts/contacts/{contactId}': { sdkFunction: 'putExternalcontactsContact', repeatable: true },
  'POST /api/v2/externalcontacts/identifierlookup/contacts': { sdkFunction: 'postExternalcontactsIdentifierlookupContacts', repeatable: true },
  'GET /api/v2/externalcontacts/externalsources': { sdkFunction: 'getExternalcontactsExternalsources', repeatable: true },
  'POST /api/v2/externalcontacts/externalsources': { sdkFunction: 'postExternalcontactsExternalsources', repeatable: false },
  'GET /api/v2/externalcontacts/contacts/schemas': { sdkFunction: 'getExternalcontactsContactsSchemas', repeatable: true },
  'POST /api/v2/externalcontacts/contacts/schemas': { sdkFunction: 'postExternalcontactsContactsSchemas', repeatable: false },
  'POST /api/v2/analytics/conversations/details/query': { sdkFunction: 'postAnalyticsConversationsDetailsQuery', repeatable: true },
  'GET /api/v2/analytics/conversations/{conversationId}/details': { sdkFunction: 'getAnalyticsConversationDetails', repeatable: true },
  'GET /api/v2/audits/query/servicemapping': { sdkFunction: 'getAuditsQueryServicemapping', repeatable: true },
  'POST /api/v2/audits/query': { sdkFunction: 'postAuditsQuery', repeatable: true },
  'GET /api/v2/audits/query/{transactionId}': { sdkFunction: 'getAuditsQueryTransactionId', repeatable: true },
  'GET /api/v2/audits/query/{transactionId}/results': { sdkFunction: 'getAuditsQueryTransactionIdResults', repeatable: true },
  'GET /api/v2/webdeployments/deployments/{deploymentId}': { sdkFunction: 'getWebdeploymentsDeployment', repeatable: true },
  'GET /api/v2/integrations': { sdkFunction: 'getIntegrations', repeatable: true },
  'POST /api/v2/integrations': { sdkFunction: 'postIntegrations', repeatable: false },
  'PUT /api/v2/integrations/{integrationId}/config/current': { sdkFunction: 'putIntegrationConfigCurrent', repeatable: true },
  'PATCH /api/v2/integrations/{integrationId}': { sdkFunction: 'patchIntegration', repeatable: true },
};

describe('Genesys operation catalogue', () => {
  it('is docs/api.md section 4 and nothing else: each row once, under the SDK function the contract names', () => {
    // Prepare
    const entries = Object.values(genesysOperations);

    // Act
    const catalogue = Object.fromEntries(
      entries.map((op) => [`${op.method} ${op.path}`, { sdkFunction: op.sdkFunction, repeatable: op.repeatable }]),
    );

    // Assess
    expect(catalogue).toEqual(SECTION_4);
    expect(entries).toHaveLength(Object.keys(SECTION_4).length);
  });

  it('has one test case per entry, each entry under its own name', () => {
    // Prepare
    const entries = Object.entries(genesysOperations);

    // Act
    const names = entries.map(([key]) => key).sort();

    // Assess
    expect(names).toEqual(cases.map((c) => c.operation).sort());
    for (const [key, op] of entries) expect(op.name).toBe(key);
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

    const repeatable = SECTION_4[`${method} ${genesysOperations[operation].path}`]?.repeatable;
    it(`after a 500 (outcome unknown) is ${repeatable ? 'sent again' : 'not sent again: a repeat could create a duplicate'}`, async () => {
      // Prepare
      const success = genesysOperations[operation].success[0] ?? 200;
      server = await startScriptedServer([{ status: 500 }, { status: success, body: { id: 'x', state: 'Queued' } }]);
      const { client } = testClient(server.url);

      // Act
      const outcome = await act(client).then(
        () => 'answered',
        (error: unknown) => (error instanceof GenesysError ? `failed ${error.upstreamStatus}` : 'other'),
      );

      // Assess
      expect(outcome).toBe(repeatable ? 'answered' : 'failed 500');
      expect(server.requests).toHaveLength(repeatable ? 2 : 1);
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
      await client.call(ops.getExternalContact, { params: { contactId: given } });

      // Assess
      expect(server.requests[0]?.url).toBe(`/api/v2/externalcontacts/contacts/${sent}`);
    });
  });

  it('are each encoded on their own when a path has two', async () => {
    // Prepare
    server = await startScriptedServer([{ status: 202 }]);
    const { client } = testClient(server.url);

    // Act
    await client.call(ops.patchParticipantAttributes, {
      params: { conversationId: 'c/1', participantId: '../p 2' },
      body: { attributes: { tier: 'gold' } },
    });

    // Assess
    expect(server.requests[0]?.url).toBe('/api/v2/conversations/c%2F1/participants/..%2Fp%202/attributes');
  });

  describe.each([{ id: '' }, { id: '   ' }, { id: '.' }, { id: '..' }])('an id of "$id"', ({ id }) => {
    it('is refused as a validation error before anything is sent', async () => {
      // Prepare
      server = await startScriptedServer([{ status: 200, body: {} }]);
      const { client, tokens } = testClient(server.url);

      // Act
      const error = await caught(() => client.call(ops.getExternalContact, { params: { contactId: id } }));

      // Assess
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ status: 400, errors: [{ path: 'contactId' }] });
      expect(server.requests).toHaveLength(0);
      expect(tokens.getTokenCalls).toBe(0);
    });
  });

  it('refuses parameters the path template does not have', () => {
    // Prepare
    const template = genesysOperations.getExternalContact.path;

    // Act
    const act = () => expandPath(template, { contactId: 'c-1', guestId: 'g-1' });

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
    const contact = () => client.call(genesysOperations.getExternalContact, { params: { contactId: 'c' } });
    // @ts-expect-error a GET takes no body
    const withBody = () => client.call(genesysOperations.getExternalContact, { params: { contactId: 'c' }, body: {} });
    // @ts-expect-error the path parameters are conversationId and participantId
    const wrongParam = () => client.call(genesysOperations.patchParticipantAttributes, { params: { sessionId: 's' }, body: { attributes: {} } });
    // @ts-expect-error participant attributes are strings
    const notString = () => client.call(genesysOperations.patchParticipantAttributes, { params: { conversationId: 'c', participantId: 'p' }, body: { attributes: { vip: true } } });

    // Assess
    expectTypeOf(read).returns.resolves.toEqualTypeOf<GenesysResponse<WebDeployment>>();
    expectTypeOf(contact).returns.resolves.toEqualTypeOf<GenesysResponse<ExternalContact>>();
    expect([withBody, wrongParam, notString]).toHaveLength(3);
  });

  it('gives every entry an SDK function and a repeat rule', () => {
    // Prepare
    const entries = Object.values(genesysOperations);

    // Act
    const incomplete = entries.filter((op) => typeof op.sdkFunction !== 'string' || typeof op.repeatable !== 'boolean');

    // Assess
    expectTypeOf<(typeof entries)[number]['sdkFunction']>().toEqualTypeOf<string>();
    expect(incomplete).toEqual([]);
  });
});
