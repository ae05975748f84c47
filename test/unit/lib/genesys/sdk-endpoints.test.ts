/**
 * Every endpoint the suite calls exists in Genesys Cloud's public API: each catalogue
 * operation's method and path is one the official SDK can call, under the SDK function
 * the catalogue names.
 *
 * Seven operations came from the documents the product was first specified from and do
 * not exist in the public API; they are being replaced (contract version 2, section 4) and
 * are listed here by name until they are gone. The list can only shrink: a name on it must
 * still be in the catalogue and still be missing from the SDK.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { genesysOperations } from '#lib/genesys';
import { sdkEndpoints, type SdkEndpoint } from '../../../support/genesys-sdk.ts';

const INVENTED_BEING_REPLACED: readonly string[] = [
  'putSessionAttributes',
  'registerWebhook',
  'createGuest',
  'getGuest',
  'updateGuest',
  'createConversation',
  'updateContact',
];

let endpoints: SdkEndpoint[];
beforeAll(async () => {
  endpoints = await sdkEndpoints();
});
const known = (op: { method: string; path: string }): boolean => endpoints.some((e) => e.method === op.method && e.path === op.path);

describe('the official SDK', () => {
  it('is read whole (thousands of endpoints)', () => {
    expect(endpoints.length).toBeGreaterThan(3_000);
    expect(endpoints).toContainEqual({
      api: 'ConversationsApi',
      fn: 'patchConversationParticipantAttributes',
      method: 'PATCH',
      path: '/api/v2/conversations/{conversationId}/participants/{participantId}/attributes',
    });
  });
});

const operations = Object.values(genesysOperations).filter((op) => !INVENTED_BEING_REPLACED.includes(op.name));

describe.each(operations.map((op) => [op.name, op] as const))('catalogue operation %s', (_name, op) => {
  it('is an endpoint of the public API: the SDK has its method and path', () => {
    expect(known(op)).toBe(true);
  });

  it('is the SDK function it names', () => {
    expect(endpoints.find((e) => e.fn === op.sdkFunction)).toMatchObject({ method: op.method, path: op.path });
  });
});

describe.each(INVENTED_BEING_REPLACED.map((name) => [name] as const))('invented operation %s, being replaced', (name) => {
  it('is still in the catalogue and still missing from the public API (remove it from this list once it is gone)', () => {
    const op = Object.values(genesysOperations).find((candidate) => candidate.name === name);
    expect(op).toBeDefined();
    expect(known(op!)).toBe(false);
  });
});
