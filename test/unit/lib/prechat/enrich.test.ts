/**
 * `enrichPrechat` with the real Genesys client against the sandbox Genesys (version 2):
 * conversations come from the Messenger simulator, the CRM lookup and the queue are
 * doubles, so each test decides what the CRM says and whether SQS takes the job.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CustomerLookupResult } from '#lib/crm';
import { DependencyError } from '#lib/errors';
import { GenesysClient, GenesysError, deadlineAfter } from '#lib/genesys';
import type { CrmSyncJob } from '#lib/jobs';
import { enrichPrechat, prechatDeadline } from '#lib/prechat';
import { PRECHAT_BUDGET_MS, type PrechatDependencies } from '#lib/prechat/enrich.ts';
import { startGenesysSandboxV2, type GenesysSandboxV2 } from '#local/sandbox/genesys/index.ts';
import { captureOutput, type CapturedOutput } from '#test/support/lambda.ts';
import { tokenFor } from '#test/unit/local/sandbox/support.ts';

const CLIENT = { clientId: 'prechat-unit', clientSecret: 'prechat-unit-secret' };
const QUEUES = { platinum: 'q-plat', gold: 'q-gold', standard: 'q-std' };

let genesys: GenesysSandboxV2;
let client: GenesysClient;
let output: CapturedOutput;

beforeAll(async () => {
  genesys = await startGenesysSandboxV2({ clients: [CLIENT] });
  let token: Promise<string> | undefined;
  client = new GenesysClient({
    apiBaseUrl: genesys.url,
    tokens: {
      getToken: () => (token ??= tokenFor(genesys.url, CLIENT.clientId, CLIENT.clientSecret)),
      invalidate: () => {
        token = undefined;
      },
    },
    baseDelayMs: 1,
  });
});
afterAll(async () => {
  await genesys.close();
});
beforeEach(() => {
  genesys.reset();
  output = captureOutput();
});
afterEach(() => output.restore());

async function firstMessage(): Promise<{ conversationId: string; participantId: string }> {
  const response = await fetch(`${genesys.url}/__sandbox/messenger/conversations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customAttributes: { pageCategory: 'returns' } }),
  });
  const started = (await response.json()) as { conversationId: string; customerParticipantId: string };
  return { conversationId: started.conversationId, participantId: started.customerParticipantId };
}

function fakes(answer: CustomerLookupResult) {
  const calls: string[] = [];
  const sent: CrmSyncJob[] = [];
  const budgets: Array<number | undefined> = [];
  const deps: PrechatDependencies = {
    genesys: {
      call: (operation, options) => {
        calls.push(operation.name);
        return client.call(operation, options);
      },
    },
    lookup: {
      lookup: async (_query, options) => {
        calls.push('lookup');
        budgets.push(options?.budgetMs);
        return answer;
      },
    },
    identitySalt: async () => 'unit-salt',
    routingQueues: QUEUES,
    queueUrl: 'http://127.0.0.1:1/000000000000/crm-sync',
    enqueue: async (jobs) => {
      calls.push('enqueue');
      sent.push(...jobs);
      return { messageIds: new Map(), pending: [] };
    },
  };
  return { deps, calls, sent, budgets };
}

const attributesOf = (conversationId: string): Record<string, string> => genesys.state().conversations[conversationId]!.customer.attributes;
const survey = { email: 'jane@example.com', subject: 'Where is my order?', priority: 'high' };

describe('enrichPrechat', () => {
  it('looks the guest up, then PATCHes the guest participant, then enqueues, and answers flat', async () => {
    // Prepare
    const ids = await firstMessage();
    const f = fakes({ outcome: 'found', fromCache: false, customer: { id: 'cust-1', firstName: 'Jane', loyaltyTier: 'Platinum', loyaltyPoints: 7 } });

    // Act
    const result = await enrichPrechat({ ...ids, surveyAnswers: survey }, f.deps);

    // Assess
    expect(f.calls).toEqual(['lookup', 'patchParticipantAttributes', 'enqueue']);
    expect(result).toEqual({
      status: 'enriched',
      enriched: true,
      conversationId: ids.conversationId,
      routingQueue: 'platinum',
      routingQueueId: 'q-plat',
      loyaltyTier: 'platinum',
      accountStatus: 'active',
      customerId: 'cust-1',
      firstName: 'Jane',
      loyaltyPoints: 7,
    });
    expect(attributesOf(ids.conversationId)).toMatchObject({ pageCategory: 'returns', 'prechat:firstName': 'Jane', 'prechat:loyaltyPoints': '7', 'prechat:subject': 'Where is my order?' });
    expect(f.sent).toEqual([expect.objectContaining({ source: 'prechat', record: expect.objectContaining({ externalId: 'cust-1' }) })]);
  });

  it.each<[string, CustomerLookupResult]>([
    ['not found', { outcome: 'not_found', fromCache: false }],
    ['timed out', { outcome: 'unavailable', reason: 'timeout', detail: 'slow' }],
    ['behind an open circuit', { outcome: 'unavailable', reason: 'circuit_open', detail: 'open' }],
    ['failing', { outcome: 'unavailable', reason: 'upstream_error', detail: 'HTTP 500' }],
  ])('continues unenriched on the standard queue when the CRM is %s', async (_case, answer) => {
    // Prepare
    const ids = await firstMessage();
    const f = fakes(answer);

    // Act
    const result = await enrichPrechat({ ...ids, surveyAnswers: { phone: '555-123-4567' } }, f.deps);

    // Assess
    expect(result).toEqual({ status: 'enriched', enriched: false, conversationId: ids.conversationId, routingQueue: 'standard', routingQueueId: 'q-std', loyaltyTier: 'standard', accountStatus: 'active' });
    expect(attributesOf(ids.conversationId)).toMatchObject({ 'prechat:enriched': 'false', 'prechat:loyaltyTier': 'standard' });
    expect(f.sent[0]?.record.externalId).toBe(ids.conversationId);
  });

  it('masks an identifier the CRM put into a name, in the answer and on the participant', async () => {
    // Prepare
    const ids = await firstMessage();
    const f = fakes({ outcome: 'found', fromCache: false, customer: { id: 'cust-9', firstName: 'jane@example.com', lastName: 'Doe' } });

    // Act
    const result = await enrichPrechat({ ...ids, surveyAnswers: survey }, f.deps);

    // Assess
    expect(result.firstName).not.toContain('jane@example.com');
    expect(JSON.stringify(attributesOf(ids.conversationId))).not.toContain('jane@example.com');
    expect(genesys.state().piiFindings).toEqual([]);
  });

  it('enqueues nothing when the PATCH fails, and names the conversation in the error', async () => {
    // Prepare: the participant is not on the conversation.
    const { conversationId } = await firstMessage();
    const f = fakes({ outcome: 'not_found', fromCache: false });

    // Act
    const failure = await enrichPrechat({ conversationId, participantId: '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f', surveyAnswers: survey }, f.deps).catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(GenesysError);
    expect((failure as GenesysError).status).toBe(404);
    expect((failure as GenesysError).extensions).toMatchObject({ conversationId, participantId: '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f' });
    expect(f.calls).toEqual(['lookup', 'patchParticipantAttributes']);
    expect(f.sent).toEqual([]);
  });

  it('answers 502 naming the applied attributes and the job when SQS does not take the job', async () => {
    // Prepare
    const ids = await firstMessage();
    const f = fakes({ outcome: 'not_found', fromCache: false });
    f.deps.enqueue = async () => {
      throw new Error('SQS unreachable');
    };

    // Act
    const failure = await enrichPrechat({ ...ids, surveyAnswers: survey }, f.deps).catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(DependencyError);
    expect((failure as DependencyError).status).toBe(502);
    expect((failure as DependencyError).extensions).toMatchObject({ conversationId: ids.conversationId, attributesApplied: true, syncJobId: expect.stringMatching(/^prechat-/) });
  });

  it('gives the CRM lookup no more than what the deadline leaves', async () => {
    // Prepare
    const ids = await firstMessage();
    const f = fakes({ outcome: 'not_found', fromCache: false });
    f.deps.deadline = deadlineAfter(3_000);

    // Act
    await enrichPrechat({ ...ids, surveyAnswers: survey }, f.deps);

    // Assess
    expect(f.budgets[0]).toBeGreaterThan(0);
    expect(f.budgets[0]).toBeLessThanOrEqual(3_000);
  });
});

describe('prechatDeadline', () => {
  it('is the route budget when the invocation has more time', () => {
    // Prepare
    let now = 1_000;
    const deadline = prechatDeadline({ remainingMs: () => 60_000 }, () => now);

    // Act
    now += 2_000;

    // Assess
    expect(deadline.remainingMs()).toBe(PRECHAT_BUDGET_MS - 2_000);
  });

  it('is the invocation when it ends sooner', () => {
    expect(prechatDeadline({ remainingMs: () => 4_000 }).remainingMs()).toBe(4_000);
  });
});
