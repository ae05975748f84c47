/**
 * The sandbox Genesys serves the operations of docs/api.md section 4 and nothing else: every
 * route it has is an endpoint of the official SDK (under the SDK's own function name), and
 * any other path or method, real SDK endpoints the suite does not call included, answers
 * 404 with Genesys's error body (SDK model `ErrorBody`).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGenesysSandboxV2, type GenesysSandboxV2 } from '#local/sandbox/genesys/index.ts';
import { call, tokenFor } from './support.ts';

const CLIENT = { clientId: 'surface-client', clientSecret: 'surface-secret' };
const ID = '3f6c1d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f';

const sdkRoot = dirname(createRequire(import.meta.url).resolve('purecloud-platform-client-v2/package.json'));

/** `METHOD /path/{param}` -> SDK function name, read from the SDK's generated API classes. */
function sdkEndpoints(): Map<string, string> {
  const dir = join(sdkRoot, 'src', 'purecloud-platform-client-v2', 'api');
  const endpoints = new Map<string, string>();
  for (const file of readdirSync(dir)) {
    const source = readFileSync(join(dir, file), 'utf8');
    for (const match of source.matchAll(/\n\t(\w+)\([^)]*\) \{[\s\S]*?callApi\(\s*'([^']+)',\s*'([A-Z]+)'/g)) {
      endpoints.set(`${match[3]} ${match[2]}`, match[1] as string);
    }
  }
  // The token request is not an API class method: ApiClient.loginClientCredentialsGrant posts it.
  endpoints.set('POST /oauth/token', 'loginClientCredentialsGrant');
  return endpoints;
}

/** The field names of the SDK model `ErrorBody`, read from the SDK's typings. */
function errorBodyFields(): string[] {
  const typings = readFileSync(join(sdkRoot, 'index.d.ts'), 'utf8');
  const block = /export interface ErrorBody \{([\s\S]*?)\n\t\}/.exec(typings)?.[1] ?? '';
  return [...block.matchAll(/"(\w+)"\??:/g)].map((match) => match[1] as string);
}

/** docs/api.md section 4, as `METHOD /path/{param}` with the SDK function each names. */
const SECTION_4: Record<string, string> = {
  'POST /oauth/token': 'loginClientCredentialsGrant',
  'PATCH /api/v2/conversations/{conversationId}/participants/{participantId}/attributes': 'patchConversationParticipantAttributes',
  'GET /api/v2/conversations/{conversationId}': 'getConversation',
  'POST /api/v2/externalcontacts/contacts': 'postExternalcontactsContacts',
  'GET /api/v2/externalcontacts/contacts/{contactId}': 'getExternalcontactsContact',
  'PUT /api/v2/externalcontacts/contacts/{contactId}': 'putExternalcontactsContact',
  'POST /api/v2/externalcontacts/identifierlookup/contacts': 'postExternalcontactsIdentifierlookupContacts',
  'GET /api/v2/externalcontacts/externalsources': 'getExternalcontactsExternalsources',
  'POST /api/v2/externalcontacts/externalsources': 'postExternalcontactsExternalsources',
  'GET /api/v2/externalcontacts/contacts/schemas': 'getExternalcontactsContactsSchemas',
  'POST /api/v2/externalcontacts/contacts/schemas': 'postExternalcontactsContactsSchemas',
  'POST /api/v2/analytics/conversations/details/query': 'postAnalyticsConversationsDetailsQuery',
  'GET /api/v2/analytics/conversations/{conversationId}/details': 'getAnalyticsConversationDetails',
  'GET /api/v2/audits/query/servicemapping': 'getAuditsQueryServicemapping',
  'POST /api/v2/audits/query': 'postAuditsQuery',
  'GET /api/v2/audits/query/{transactionId}': 'getAuditsQueryTransactionId',
  'GET /api/v2/audits/query/{transactionId}/results': 'getAuditsQueryTransactionIdResults',
  'GET /api/v2/webdeployments/deployments/{deploymentId}': 'getWebdeploymentsDeployment',
  'GET /api/v2/integrations': 'getIntegrations',
  'POST /api/v2/integrations': 'postIntegrations',
  'PUT /api/v2/integrations/{integrationId}/config/current': 'putIntegrationConfigCurrent',
  'PATCH /api/v2/integrations/{integrationId}': 'patchIntegration',
};

describe('sandbox Genesys surface', () => {
  let sandbox: GenesysSandboxV2;
  let token: string;

  beforeAll(async () => {
    sandbox = await startGenesysSandboxV2({ clients: [CLIENT] });
    token = await tokenFor(sandbox.url, CLIENT.clientId, CLIENT.clientSecret);
  });

  afterAll(async () => {
    await sandbox.close();
  });

  it('serves exactly the section 4 operations, each an SDK endpoint under its SDK name', () => {
    // Prepare
    const sdk = sdkEndpoints();

    // Act
    const served = sandbox.operations.map(({ method, path, operation }) => ({
      key: `${method} ${path.replace(/:(\w+)/g, '{$1}')}`,
      operation,
    }));

    // Assess
    expect(Object.fromEntries(served.map(({ key, operation }) => [key, operation]))).toEqual(SECTION_4);
    for (const { key, operation } of served) expect(sdk.get(key), key).toBe(operation);
  });

  // Paths outside section 4: real SDK endpoints the suite does not call, next to the ones it
  // does, and paths the SDK does not have at all.
  const invented: Array<[string, string, unknown]> = [
    ['PATCH', `/api/v2/conversations/messages/${ID}/participants/${ID}/attributes`, { attributes: { a: 'b' } }],
    ['POST', '/api/v2/conversations/messages/agentless', { fromAddress: ID, toAddress: '+15555550100', toAddressMessengerType: 'sms' }],
    ['GET', '/api/v2/webdeployments/deployments', undefined],
    ['GET', '/api/v2/webmessaging/messages', undefined],
    ['PATCH', `/api/v2/externalcontacts/contacts/${ID}`, { customFields: {} }],
    ['PUT', `/api/v2/conversations/${ID}/participants/${ID}/attributes`, { attributes: { a: 'b' } }],
    ['GET', '/api/v2/users/me', undefined],
    ['DELETE', `/api/v2/externalcontacts/contacts/${ID}/notes`, undefined],
    ['DELETE', `/api/v2/externalcontacts/contacts/${ID}`, undefined],
    ['GET', `/api/v2/integrations/${ID}`, undefined],
    ['POST', `/api/v2/conversations/${ID}`, { state: 'disconnected' }],
  ];

  it.each(invented)('answers %s %s with 404 and Genesys\'s error body', async (method, path, body) => {
    // Act
    const response = await call(`${sandbox.url}${path}`, token, method, body);
    const answer = (await response.json()) as Record<string, unknown>;

    // Assess
    expect(response.status).toBe(404);
    expect(answer).toMatchObject({ code: 'not.found', status: 404, message: expect.any(String), details: [], errors: [] });
    expect(answer.contextId).toBe(response.headers.get('inin-correlation-id'));
    expect(Object.keys(answer).every((key) => errorBodyFields().includes(key)), Object.keys(answer).join()).toBe(true);
  });

  it('names only SDK ErrorBody fields in every error it sends, e.g. a 400', async () => {
    // Act
    const response = await call(`${sandbox.url}/api/v2/audits/query`, token, 'POST', {
      interval: '2025-01-01T00:00:00Z/2025-01-02T00:00:00Z',
      serviceName: 'Conversations',
    });
    const answer = (await response.json()) as Record<string, unknown>;

    // Assess
    expect(response.status).toBe(400);
    expect(errorBodyFields()).toEqual(expect.arrayContaining(Object.keys(answer)));
  });
});
