/**
 * Engagement metrics: the numbers from analytics conversation details (pure, table-driven
 * on the SDK model's shapes) and the query against the sandbox Genesys (version 2), whose
 * conversations the Messenger simulator starts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AnalyticsConversation } from '#lib/genesys';
import { changesFromBody, createGuestFields } from '#lib/guests/changes.ts';
import { engagementMetrics, measureGuest } from '#lib/guests/metrics.ts';
import type { GenesysSandboxV2 } from '#local/sandbox/genesys/index.ts';
import { createGuestContact, resetGuestSchemaCacheForTests } from '#lib/guests/store.ts';
import { SETTINGS, clientFor, control, startGuestSandbox } from './support.ts';

const GUEST = { id: 'g-1', attributes: {} };
const NOW = new Date('2026-11-30T12:00:00.000Z');

/** A conversation's details as Genesys analytics shapes them. */
function conversation(id: string, start: string, end: string | undefined, sessions: { customer?: object[]; agent?: object[] }): AnalyticsConversation {
  return {
    conversationId: id,
    conversationStart: start,
    ...(end ? { conversationEnd: end } : {}),
    participants: [
      { participantId: `${id}-c`, purpose: 'customer', externalContactId: 'g-1', sessions: (sessions.customer ?? []) as never },
      { participantId: `${id}-a`, purpose: 'agent', sessions: (sessions.agent ?? []) as never },
    ],
  };
}

describe('engagementMetrics', () => {
  it('counts conversations, adds their durations, messages and agent response times', () => {
    // Prepare
    const conversations = [
      conversation('c1', '2026-11-29T10:00:00.000Z', '2026-11-29T10:12:30.000Z', {
        customer: [{ mediaType: 'message', metrics: [{ name: 'oMessageCount', value: 4 }, { name: 'nConnected', value: 1 }] }],
        agent: [{ mediaType: 'message', metrics: [{ name: 'tAgentResponseTime', value: 30_000 }, { name: 'tAgentResponseTime', value: 10_000 }] }],
      }),
      conversation('c2', '2026-11-30T11:30:00.000Z', undefined, {
        customer: [{ mediaType: 'message', mediaCount: 2, metrics: [] }],
        agent: [{ mediaType: 'message', metrics: [{ name: 'tAgentResponseTime', value: 20_001 }] }],
      }),
    ];

    // Act
    const measured = engagementMetrics(GUEST, conversations, NOW);

    // Assess
    expect(measured).toEqual({
      guestId: 'g-1',
      conversationCount: 2,
      durationMinutes: 42.5,
      messageCount: 6,
      avgResponseTimeMs: 20_000,
      conversionFlag: false,
      calculatedAt: NOW.toISOString(),
    });
  });

  it.each<[string, AnalyticsConversation[], Record<string, unknown>]>([
    ['no conversations', [], { conversationCount: 0, durationMinutes: 0, messageCount: 0, avgResponseTimeMs: null }],
    [
      'a conversation no agent answered (response time null, not 0)',
      [conversation('c1', '2026-11-30T11:00:00.000Z', '2026-11-30T11:01:00.000Z', { customer: [{ metrics: [{ name: 'oMessageCount', value: 1 }] }] })],
      { conversationCount: 1, durationMinutes: 1, messageCount: 1, avgResponseTimeMs: null },
    ],
    [
      'the same conversation twice (two query windows)',
      [conversation('c1', '2026-11-30T11:00:00.000Z', '2026-11-30T11:01:00.000Z', {}), conversation('c1', '2026-11-30T11:00:00.000Z', '2026-11-30T11:01:00.000Z', {})],
      { conversationCount: 1, durationMinutes: 1 },
    ],
    [
      'unparseable dates and negative values count as nothing',
      [conversation('c1', 'not a date', undefined, { agent: [{ metrics: [{ name: 'tAgentResponseTime', value: -5 }] }] })],
      { conversationCount: 1, durationMinutes: 0, avgResponseTimeMs: null },
    ],
  ])('%s', (_case, conversations, expected) => {
    expect(engagementMetrics(GUEST, conversations, NOW)).toMatchObject(expected);
  });

  it.each([
    [true, true],
    ['true', true],
    ['yes', false],
  ])('reads the conversion flag from the guest\'s converted attribute (%s -> %s)', (converted, flag) => {
    expect(engagementMetrics({ id: 'g-1', attributes: { converted } }, [], NOW).conversionFlag).toBe(flag);
  });
});

describe('measureGuest against the sandbox Genesys', () => {
  let sandbox: GenesysSandboxV2;
  let now = Date.parse('2026-11-30T12:00:00.000Z');

  beforeAll(async () => {
    sandbox = await startGuestSandbox({ clock: () => now });
  });
  afterAll(async () => {
    await sandbox.close();
  });
  beforeEach(() => {
    sandbox.reset();
    resetGuestSchemaCacheForTests();
    now = Date.parse('2026-11-30T12:00:00.000Z');
  });

  async function guestId(): Promise<string> {
    const fields = createGuestFields({ marketing: false, dataProcessing: true }, changesFromBody({ attributes: { converted: 'true' } }, 'salt').changes);
    return (await createGuestContact(clientFor(sandbox), SETTINGS, fields)).guest.id;
  }

  /** A conversation of the guest through the Messenger simulator: `messages` guest messages, `minutes` long. */
  async function chat(externalContactId: string, messages: number, minutes: number | undefined): Promise<void> {
    const { conversationId } = await control<{ conversationId: string }>(sandbox, 'POST', '/__sandbox/messenger/conversations', { externalContactId });
    for (let i = 1; i < messages; i += 1) await control(sandbox, 'POST', `/__sandbox/messenger/conversations/${conversationId}/messages`, {});
    if (minutes !== undefined) {
      now += minutes * 60_000;
      await control(sandbox, 'POST', `/__sandbox/messenger/conversations/${conversationId}/end`, {});
    }
  }

  it('measures the guest\'s own conversations of the window from the conversation details', async () => {
    // Prepare
    const id = await guestId();
    const other = await guestId();
    now -= 10 * 86_400_000;
    await chat(id, 2, 5);
    now += 9 * 86_400_000;
    await chat(id, 3, 10);
    await chat(other, 7, 1);
    now = Date.parse('2026-11-30T12:00:00.000Z');

    // Act
    const measured = await measureGuest(clientFor(sandbox), SETTINGS, id, { days: 30, now: new Date(now) });

    // Assess
    expect(measured).toEqual({
      guestId: id,
      conversationCount: 2,
      durationMinutes: 15,
      messageCount: 5,
      avgResponseTimeMs: null,
      conversionFlag: true,
      calculatedAt: '2026-11-30T12:00:00.000Z',
    });
  });

  it('leaves out conversations older than the window', async () => {
    // Prepare
    const id = await guestId();
    now -= 31 * 86_400_000;
    await chat(id, 4, 3);
    now = Date.parse('2026-11-30T12:00:00.000Z');

    // Act
    const measured = await measureGuest(clientFor(sandbox), SETTINGS, id, { days: 30, now: new Date(now) });

    // Assess
    expect(measured).toMatchObject({ conversationCount: 0, messageCount: 0, durationMinutes: 0 });
  });

  it('asks in windows of at most 7 days, filtered on the guest\'s external contact id', async () => {
    // Prepare
    const id = await guestId();
    const bodies: Array<Record<string, any>> = [];
    const spy: typeof fetch = async (input, init) => {
      if (String(input).endsWith('/api/v2/analytics/conversations/details/query')) bodies.push(JSON.parse(String(init?.body)));
      return fetch(input, init);
    };

    // Act
    await measureGuest(clientFor(sandbox, { fetch: spy }), SETTINGS, id, { days: 30, now: new Date(now) });

    // Assess
    expect(bodies).toHaveLength(5);
    for (const body of bodies) {
      const [from, to] = String(body['interval']).split('/').map((iso) => Date.parse(iso));
      expect((to as number) - (from as number)).toBeLessThanOrEqual(7 * 86_400_000);
      expect(body['segmentFilters']).toEqual([{ type: 'and', predicates: [{ type: 'dimension', dimension: 'externalContactId', operator: 'matches', value: id }] }]);
      expect(body['paging']).toEqual({ pageSize: 100, pageNumber: 1 });
    }
  });

  it('answers 404 for an unknown guest without querying analytics', async () => {
    // Act
    const measured = measureGuest(clientFor(sandbox), SETTINGS, '0b5e7f3a-5c1d-4e2f-9a3b-0000000000ff', { days: 30, now: new Date(now) });

    // Assess
    await expect(measured).rejects.toMatchObject({ status: 404 });
    expect(sandbox.state().requests.filter((entry) => entry.operation === 'postAnalyticsConversationsDetailsQuery')).toEqual([]);
  });
});
