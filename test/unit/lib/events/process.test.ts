/**
 * Conversation events end to end against the sandbox Genesys (docs/api.md section 3): the
 * Messenger simulator produces the events a guest's conversation does, the function's flow
 * handles them as EventBridge would deliver them (also twice, out of order, after a failed
 * PATCH), and the participant, the PATCHes and the CRM jobs show what a user would see.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventLedger, handleConversationEvent } from '#lib/events';
import type { EventDependencies } from '#lib/events/process.ts';
import { GenesysClient } from '#lib/genesys';
import type { CrmSyncJob } from '#lib/jobs';
import { MetricNames, metrics } from '#lib/observability';
import { PreparedSessions } from '#lib/state';
import { MemoryStateTable } from '#lib/state/table.ts';
import { startGenesysSandboxV2, type ConversationEventEnvelope, type GenesysSandboxV2 } from '#local/sandbox/genesys/index.ts';
import { control, manualClock, tokenFor } from '#test/unit/local/sandbox/support.ts';

const CLIENT = { clientId: 'events-client', clientSecret: 'events-secret' };
const SESSION_ID = '3f6c1d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f';
const PREPARED = { customerId: 'C-1001', loyaltyTier: 'gold' };

interface Started {
  conversationId: string;
  customerParticipantId: string;
}

describe('handleConversationEvent', () => {
  let sandbox: GenesysSandboxV2;
  let clock: ReturnType<typeof manualClock>;
  let events: ConversationEventEnvelope[];
  let table: MemoryStateTable;
  let sessions: PreparedSessions;
  let jobs: CrmSyncJob[];
  let deps: EventDependencies;
  let gsRef: string;

  beforeEach(async () => {
    clock = manualClock();
    events = [];
    sandbox = await startGenesysSandboxV2({ clients: [CLIENT], clock: clock.now, publish: (event) => void events.push(event) });
    table = new MemoryStateTable(clock.now);
    sessions = new PreparedSessions(table, clock.now);
    jobs = [];
    deps = {
      ledger: new EventLedger(table, clock.now),
      sessions,
      genesys: new GenesysClient({
        apiBaseUrl: sandbox.url,
        tokens: { getToken: () => tokenFor(sandbox.url, CLIENT.clientId, CLIENT.clientSecret), invalidate: () => undefined },
        maxAttempts: 1,
      }),
      enqueue: async (batch) => {
        jobs.push(...batch);
        return { pending: [] };
      },
      now: () => new Date(clock.now()),
    };
    gsRef = (await sessions.prepare(SESSION_ID, PREPARED, new Date(clock.now()).toISOString(), 1800)).gsRef;
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    await sandbox.close();
  });

  /** The guest's first message, with the attributes the browser sent. */
  const firstMessage = async (customAttributes: Record<string, string>): Promise<Started> => {
    clock.advance(1_000);
    const started = await control<Started>(sandbox.url, 'POST', '/__sandbox/messenger/conversations', { customAttributes });
    await sandbox.flushEvents();
    return started;
  };
  /** Hands every event produced since `from` to the flow, in order; returns the outcomes. */
  const deliver = async (from: number): Promise<string[]> => {
    const outcomes: string[] = [];
    for (let index = from; index < events.length; index += 1) {
      clock.advance(10);
      outcomes.push((await handleConversationEvent(events[index], deps)).outcome);
      await sandbox.flushEvents();
    }
    return outcomes;
  };
  const participantAttributes = (started: Started): Record<string, string> =>
    sandbox.state().conversations[started.conversationId]!.customer.attributes;
  const patches = (): number => sandbox.state().requests.filter((r) => r.operation === 'patchConversationParticipantAttributes' && r.status === 202).length;

  it('re-asserts a tampered attribute with one PATCH, links the session, queues one CRM job, and does not PATCH its own echo', async () => {
    // Prepare
    const started = await firstMessage({ gsRef, customerId: 'C-1001', loyaltyTier: 'platinum', note: 'browser only' });

    // Act
    const outcomes = await deliver(0);

    // Assess
    expect(outcomes).toEqual(['applied', 'applied']); // customer.start, then the PATCH's own attributes event
    expect(participantAttributes(started)).toEqual({ gsRef, customerId: 'C-1001', loyaltyTier: 'gold', note: 'browser only' });
    expect(patches()).toBe(1);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({
      source: 'event',
      record: { externalId: SESSION_ID, channelContext: { conversationId: started.conversationId, participantId: started.customerParticipantId } },
    });
    expect(events).toHaveLength(2);
    expect(await sessions.get(SESSION_ID)).toMatchObject({ conversationId: started.conversationId, participantId: started.customerParticipantId });
  });

  it('PATCHes nothing when the browser sent the prepared values, and adds what a late Database.set left out', async () => {
    // Prepare
    const untouched = await firstMessage({ gsRef, ...PREPARED });
    await deliver(0);
    const before = patches();
    const partial = await firstMessage({ gsRef, customerId: 'C-1001' });
    const from = events.length - 1;

    // Act
    await deliver(from);

    // Assess
    expect(before).toBe(0);
    expect(participantAttributes(untouched)).toEqual({ gsRef, ...PREPARED });
    expect(participantAttributes(partial)).toEqual({ gsRef, ...PREPARED });
    expect(patches()).toBe(1);
  });

  it('changes nothing the second to fifth time the same event arrives (same id, or same content under a new id)', async () => {
    // Prepare
    await firstMessage({ gsRef, customerId: 'C-1001', loyaltyTier: 'platinum' });
    const start = events[0]!;

    // Act
    const outcomes = [
      (await handleConversationEvent(start, deps)).outcome,
      (await handleConversationEvent(start, deps)).outcome,
      (await handleConversationEvent(structuredClone(start), deps)).outcome,
      (await handleConversationEvent({ ...start, id: 'a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d' }, deps)).outcome,
      (await handleConversationEvent({ ...start, id: 'b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e' }, deps)).outcome,
    ];

    // Assess
    expect(outcomes).toEqual(['applied', 'duplicate', 'duplicate', 'duplicate', 'duplicate']);
    expect(patches()).toBe(1);
    expect(jobs).toHaveLength(1);
  });

  it('never lets an older attributes event undo a newer one', async () => {
    // Prepare: the browser tampers, the suite corrects; then the tampered event arrives again, late and under a new id.
    const started = await firstMessage({ gsRef, ...PREPARED });
    await deliver(0);
    clock.advance(1_000);
    await control(sandbox.url, 'POST', `/__sandbox/messenger/conversations/${started.conversationId}/attributes`, { customAttributes: { loyaltyTier: 'platinum' } });
    await sandbox.flushEvents();
    const tampered = events[events.length - 1]!;
    await deliver(events.length - 1);
    const afterCorrection = patches();

    // Act
    const late = await handleConversationEvent({ ...tampered, id: 'c2d3e4f5-a6b7-4c8d-9e0f-1a2b3c4d5e6f', detail: { ...tampered.detail, eventBody: { ...tampered.detail.eventBody, eventTime: clock.now() - 5_000, attributes: { gsRef, customerId: 'C-1001', loyaltyTier: 'silver' } } } }, deps);

    // Assess
    expect(late.outcome).toBe('stale');
    expect(afterCorrection).toBe(1);
    expect(patches()).toBe(1);
    expect(participantAttributes(started).loyaltyTier).toBe('gold');
  });

  it('throws when the PATCH fails, so EventBridge retries; the retry then succeeds with one PATCH', async () => {
    // Prepare
    const started = await firstMessage({ gsRef, customerId: 'C-1001', loyaltyTier: 'platinum' });
    await control(sandbox.url, 'POST', '/__sandbox/faults', { rules: [{ operation: 'patchConversationParticipantAttributes', status: 503, times: 1 }] });

    // Act
    const failed = handleConversationEvent(events[0], deps);
    await expect(failed).rejects.toThrow();
    const retried = await handleConversationEvent(events[0], deps);

    // Assess
    expect(retried.outcome).toBe('applied');
    expect(participantAttributes(started).loyaltyTier).toBe('gold');
    expect(patches()).toBe(1);
    expect(jobs).toHaveLength(1);
  });

  it('skips, without retrying, an event of a conversation Genesys no longer knows (404)', async () => {
    // Prepare
    await firstMessage({ gsRef, customerId: 'C-1001', loyaltyTier: 'platinum' });
    await control(sandbox.url, 'POST', '/__sandbox/faults', { rules: [{ operation: 'getConversation', status: 404 }] });

    // Act
    const result = await handleConversationEvent(events[0], deps);

    // Assess
    expect(result.outcome).toBe('conversation-gone');
    expect(patches()).toBe(0);
    expect(jobs).toHaveLength(0);
    expect((await handleConversationEvent(events[0], deps)).outcome).toBe('duplicate');
  });

  it.each([
    ['expired', async () => {
      clock.advance(1_801_000);
      return gsRef;
    }],
    ['guessed', async () => 'ZZZZZZZZZZZZZZZZZZZZZZZZ'],
  ])('changes nothing for a gsRef that names no session (%s) and counts it', async (_case, refOf) => {
    // Prepare
    const ref = await refOf();
    const counted = vi.spyOn(metrics, 'addMetric');
    const started = await firstMessage({ gsRef: ref, customerId: 'C-1001', loyaltyTier: 'platinum' });

    // Act
    const outcomes = await deliver(0);

    // Assess
    expect(outcomes).toEqual(['unknown-session']);
    expect(counted).toHaveBeenCalledWith(MetricNames.EventsUnknownSession, 'Count', 1);
    expect(participantAttributes(started).loyaltyTier).toBe('platinum');
    expect(patches()).toBe(0);
    expect(jobs).toHaveLength(0);
  });

  it('ignores a conversation whose participant names no session at all', async () => {
    // Prepare
    await firstMessage({ customerId: 'C-2002' });

    // Act
    const outcomes = await deliver(0);

    // Assess
    expect(outcomes).toEqual(['no-session']);
    expect(patches()).toBe(0);
    expect(jobs).toHaveLength(0);
  });

  it('queues the lastInteraction job when the linked conversation ends, once however often the end arrives', async () => {
    // Prepare
    const started = await firstMessage({ gsRef, ...PREPARED });
    await deliver(0);
    clock.advance(60_000);
    await control(sandbox.url, 'POST', `/__sandbox/messenger/conversations/${started.conversationId}/end`);
    await sandbox.flushEvents();
    const end = events[events.length - 1]!;

    // Act
    const outcomes = [(await handleConversationEvent(end, deps)).outcome, (await handleConversationEvent(end, deps)).outcome];

    // Assess
    expect(outcomes).toEqual(['ended', 'duplicate']);
    expect((await sessions.get(SESSION_ID))?.endedAt).toBe(new Date(end.detail.eventBody.eventTime as number).toISOString());
    expect(jobs).toHaveLength(2);
    expect(jobs[1]).toMatchObject({
      source: 'event',
      record: {
        externalId: SESSION_ID,
        lastInteraction: new Date(end.detail.eventBody.eventTime as number).toISOString(),
        channelContext: { conversationId: started.conversationId, interactingDurationMs: end.detail.eventBody.interactingDurationMs },
      },
    });
  });

  it('still reports the end when it arrives before the event that links the conversation', async () => {
    // Prepare
    const started = await firstMessage({ gsRef, ...PREPARED });
    clock.advance(60_000);
    await control(sandbox.url, 'POST', `/__sandbox/messenger/conversations/${started.conversationId}/end`);
    await sandbox.flushEvents();
    const [start, end] = events;

    // Act
    const outcomes = [(await handleConversationEvent(end, deps)).outcome, (await handleConversationEvent(start, deps)).outcome];

    // Assess
    expect(outcomes).toEqual(['end-noted', 'applied']);
    expect(jobs.map((job) => job.record.channelContext?.['conversationEndedAt'] !== undefined)).toEqual([false, true]);
  });

  it('logs and skips a malformed event instead of throwing (a retry would not mend it)', async () => {
    // Act
    const result = await handleConversationEvent({ id: 'x', 'detail-type': 'v2.detail.events.conversation.{id}.attributes', detail: 'not an object' }, deps);

    // Assess
    expect(result).toEqual({ outcome: 'malformed', eventId: 'x' });
  });
});
