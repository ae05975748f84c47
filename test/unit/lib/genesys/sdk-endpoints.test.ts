/**
 * Every endpoint the suite calls exists in Genesys Cloud's public API: each catalogue
 * operation's method and path is one the official SDK can call, under the SDK function
 * the catalogue names. An entry the SDK does not have fails here.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { genesysOperations } from '#lib/genesys';
import { sdkEndpoints, type SdkEndpoint } from '#test/support/genesys-sdk.ts';

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

describe.each(Object.values(genesysOperations).map((op) => [op.name, op] as const))('catalogue operation %s', (_name, op) => {
  it('is an endpoint of the public API: the SDK has its method and path', () => {
    expect(known(op)).toBe(true);
  });

  it('is the SDK function it names', () => {
    expect(endpoints.find((e) => e.fn === op.sdkFunction)).toMatchObject({ method: op.method, path: op.path });
  });
});
