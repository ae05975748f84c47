import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CustomerLookupResult } from '#lib/crm';
import { DependencyError } from '#lib/errors';
import { GenesysError, type CreateConversationRequest, type FlatAttributes } from '#lib/genesys';
import type { CrmSyncJob } from '#lib/jobs';
import { enrichPrechat, type PrechatDependencies } from '#lib/prechat';
import { captureOutput, type CapturedOutput } from '../../../support/lambda.ts';

const QUEUES = { platinum: 'q-plat', gold: 'q-gold', standard: 'q-std' };
const body = { surveyAnswers: { email: 'jane@example.com', subject: 'Where is my order?', priority: 'high' }, sessionToken: 'wm-token-1' };

function fakes(answer: CustomerLookupResult) {
  const calls: string[] = [];
  const created: CreateConversationRequest[] = [];
  const contacts: FlatAttributes[] = [];
  const sent: CrmSyncJob[] = [];
  const deps: PrechatDependencies = {
    genesys: {
      createConversation: async (request) => {
        calls.push('createConversation');
        created.push(request);
        return { status: 201, body: { id: 'conv-1' } };
      },
      updateContact: async (_id, attributes) => {
        calls.push('updateContact');
        contacts.push(attributes);
        return { status: 200, body: { attributes } };
      },
    },
    lookup: { lookup: async () => answer },
    salt: 'unit-salt',
    routingQueues: QUEUES,
    queueUrl: 'http://127.0.0.1:1/000000000000/crm-sync',
    enqueue: async (jobs) => {
      calls.push('enqueue');
      sent.push(...jobs);
      return { messageIds: new Map(), pending: [] };
    },
  };
  return { deps, calls, created, contacts, sent };
}

let output: CapturedOutput;
beforeEach(() => {
  output = captureOutput();
});
afterEach(() => output.restore());

describe('enrichPrechat', () => {
  it('routes a known customer by tier, creates the conversation, then writes the contact, then enqueues', async () => {
    // Prepare
    const f = fakes({ outcome: 'found', fromCache: false, customer: { id: 'cust-1', firstName: 'Jane', loyaltyTier: 'platinum' } });

    // Act
    const result = await enrichPrechat(body, f.deps);

    // Assess
    expect(result).toEqual({ status: 'enriched', enriched: true, conversationId: 'conv-1', routingQueue: 'q-plat' });
    expect(f.calls).toEqual(['createConversation', 'updateContact', 'enqueue']);
    expect(f.created[0]).toEqual({ channel: 'webmessaging', routing: { queueId: 'q-plat' }, contact: { attributes: { preChatSubject: 'Where is my order?', preChatPriority: 'high', loyaltyTier: 'platinum' } } });
    expect(f.contacts[0]).toMatchObject({ customerId: 'cust-1', firstName: 'Jane', loyaltyTier: 'platinum', enriched: true });
    expect(f.sent[0]?.record.externalId).toBe('cust-1');
  });

  it.each<[string, CustomerLookupResult]>([
    ['not found', { outcome: 'not_found', fromCache: false }],
    ['timed out', { outcome: 'unavailable', reason: 'timeout', detail: 'slow' }],
    ['behind an open circuit', { outcome: 'unavailable', reason: 'circuit_open', detail: 'open' }],
    ['failing', { outcome: 'unavailable', reason: 'upstream_error', detail: 'HTTP 500' }],
  ])('continues unenriched on the standard queue when the CRM is %s', async (_case, answer) => {
    // Prepare
    const f = fakes(answer);

    // Act
    const result = await enrichPrechat(body, f.deps);

    // Assess
    expect(result).toEqual({ status: 'enriched', enriched: false, conversationId: 'conv-1', routingQueue: 'q-std' });
    expect(f.contacts[0]).toMatchObject({ loyaltyTier: 'standard', accountStatus: 'active', enriched: false });
    expect(f.sent[0]?.record.externalId).toBe('conv-1');
  });

  it('never sends the raw email or the session token to Genesys or the queue', async () => {
    // Prepare
    const f = fakes({ outcome: 'not_found', fromCache: false });

    // Act
    await enrichPrechat(body, f.deps);

    // Assess
    const sent = JSON.stringify([f.created, f.contacts, f.sent]);
    expect(sent).not.toContain('jane@example.com');
    expect(sent).not.toContain('wm-token-1');
  });

  it('answers 502 with the conversation id when the contact update fails after the conversation exists, and enqueues nothing', async () => {
    // Prepare
    const f = fakes({ outcome: 'not_found', fromCache: false });
    f.deps.genesys.updateContact = async () => {
      throw new GenesysError({ operation: 'updateContact', kind: 'http', upstreamStatus: 500, retryable: true, attempts: 3 });
    };

    // Act
    const failure = await enrichPrechat(body, f.deps).catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(DependencyError);
    expect((failure as DependencyError).status).toBe(502);
    expect((failure as DependencyError).message).toContain('conv-1');
    expect((failure as DependencyError).extensions).toMatchObject({ conversationId: 'conv-1', contactUpdated: false, upstreamStatus: 500 });
    expect(f.sent).toHaveLength(0);
  });

  it('lets a failed conversation creation surface as Genesys answered, with nothing written or enqueued', async () => {
    // Prepare
    const f = fakes({ outcome: 'not_found', fromCache: false });
    f.deps.genesys.createConversation = async () => {
      throw new GenesysError({ operation: 'createConversation', kind: 'http', upstreamStatus: 429, retryable: true, attempts: 3, retryAfterSeconds: 2 });
    };

    // Act
    const failure = await enrichPrechat(body, f.deps).catch((e: unknown) => e);

    // Assess
    expect((failure as GenesysError).status).toBe(503);
    expect(f.contacts).toHaveLength(0);
    expect(f.sent).toHaveLength(0);
  });
});
