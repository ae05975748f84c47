/**
 * The Messenger simulator of the sandbox Genesys: a guest's first message starts a
 * conversation carrying its custom attributes, the browser changes them, the guest leaves;
 * every step produces the conversation event Genesys's EventBridge integration delivers,
 * in the envelope of docs/api.md section 3, and can be handed to a bus.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  startGenesysSandboxV2,
  type ConversationEventEnvelope,
  type GenesysSandboxV2,
  type GenesysSandboxV2Options,
} from '#local/sandbox/genesys/index.ts';
import { startScriptedServer, type ScriptedServer } from '#test/support/scripted-server.ts';
import { call, control, manualClock, tokenFor } from './support.ts';

const CLIENT = { clientId: 'messenger-client', clientSecret: 'messenger-secret' };
const ORG = '6a3b1c2d-0e4f-4a5b-8c6d-7e8f9a0b1c2d';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Started {
  conversationId: string;
  customerParticipantId: string;
  agentParticipantId?: string;
}

describe('Messenger simulator', () => {
  let sandbox: GenesysSandboxV2;
  let clock: ReturnType<typeof manualClock>;
  let token: string;

  const start = async (options: Partial<GenesysSandboxV2Options> = {}): Promise<void> => {
    clock = manualClock();
    sandbox = await startGenesysSandboxV2({
      clients: [CLIENT],
      clock: clock.now,
      eventSource: { organizationId: ORG, eventSourceSuffix: 'guest-sync', account: '123456789012', region: 'eu-west-1' },
      ...options,
    });
    token = await tokenFor(sandbox.url, CLIENT.clientId, CLIENT.clientSecret);
  };
  const startConversation = (body: unknown): Promise<Started> =>
    control<Started>(sandbox.url, 'POST', '/__sandbox/messenger/conversations', body);
  const getConversation = async (id: string): Promise<{ endTime?: string; participants: Array<{ id: string; purpose: string; attributes: Record<string, string> }> }> => {
    const response = await call(`${sandbox.url}/api/v2/conversations/${id}`, token, 'GET');
    return (await response.json()) as never;
  };

  afterEach(async () => {
    await sandbox.close();
  });

  describe('without a bus', () => {
    beforeEach(async () => {
      await start();
    });

    it('starts a conversation whose customer participant carries the custom attributes, with an ACD participant', async () => {
      // Act
      const started = await startConversation({ customAttributes: { gsRef: 'ref-1', plan: 'gold' } });
      const conversation = await getConversation(started.conversationId);

      // Assess
      expect(started.conversationId).toMatch(UUID);
      expect(conversation.participants).toEqual([
        expect.objectContaining({ id: started.customerParticipantId, purpose: 'customer', attributes: { gsRef: 'ref-1', plan: 'gold' } }),
        expect.objectContaining({ id: started.agentParticipantId, purpose: 'acd', attributes: {} }),
      ]);
    });

    it('merges what the browser sets (Database.set) and what a PATCH sets, keeping every other attribute', async () => {
      // Prepare
      const started = await startConversation({ customAttributes: { gsRef: 'ref-1', plan: 'gold', lang: 'en' } });

      // Act
      await control(sandbox.url, 'POST', `/__sandbox/messenger/conversations/${started.conversationId}/attributes`, {
        customAttributes: { plan: 'tampered', page: 'checkout' },
      });
      const patched = await call(
        `${sandbox.url}/api/v2/conversations/${started.conversationId}/participants/${started.customerParticipantId}/attributes`,
        token,
        'PATCH',
        { attributes: { plan: 'gold' } },
      );
      const conversation = await getConversation(started.conversationId);

      // Assess
      expect(patched.status).toBe(202);
      expect(conversation.participants[0]?.attributes).toEqual({ gsRef: 'ref-1', plan: 'gold', lang: 'en', page: 'checkout' });
    });

    it('records customer.start, attributes (browser and PATCH) and customer.end in the EventBridge envelope of docs/api.md section 3', async () => {
      // Prepare
      const started = await startConversation({ customAttributes: { gsRef: 'ref-1' } });
      clock.advance(1_000);
      await control(sandbox.url, 'POST', `/__sandbox/messenger/conversations/${started.conversationId}/attributes`, {
        customAttributes: { page: 'checkout' },
      });
      clock.advance(1_000);
      await call(
        `${sandbox.url}/api/v2/conversations/${started.conversationId}/participants/${started.customerParticipantId}/attributes`,
        token,
        'PATCH',
        { attributes: { tier: 'gold' } },
      );
      clock.advance(90_000);

      // Act
      await control(sandbox.url, 'POST', `/__sandbox/messenger/conversations/${started.conversationId}/end`);
      const { events } = await control<{ events: ConversationEventEnvelope[] }>(sandbox.url, 'GET', '/__sandbox/events');

      // Assess
      const id = started.conversationId;
      expect(events.map((event) => event['detail-type'])).toEqual([
        'v2.detail.events.conversation.{id}.customer.start',
        'v2.detail.events.conversation.{id}.attributes',
        'v2.detail.events.conversation.{id}.attributes',
        'v2.detail.events.conversation.{id}.customer.end',
      ]);
      for (const event of events) {
        expect(Object.keys(event).sort()).toEqual(['account', 'detail', 'detail-type', 'id', 'region', 'resources', 'source', 'time', 'version']);
        expect(event).toMatchObject({
          version: '0',
          id: expect.stringMatching(UUID),
          source: `aws.partner/genesys.com/cloud/${ORG}/guest-sync`,
          account: '123456789012',
          region: 'eu-west-1',
          resources: [],
          detail: { version: '2', metadata: { CorrelationId: expect.stringMatching(UUID) }, timestamp: expect.any(String) },
        });
        expect(Object.keys(event.detail).sort()).toEqual(['eventBody', 'metadata', 'timestamp', 'topicName', 'version']);
        expect(event.detail.topicName).toBe(event['detail-type'].replace('{id}', id));
        expect(event.detail.eventBody).toMatchObject({ conversationId: id, participantId: started.customerParticipantId, eventTime: expect.any(Number) });
      }
      const [startEvent, browserEvent, patchEvent, endEvent] = events.map((event) => event.detail.eventBody);
      expect(startEvent).toMatchObject({ mediaType: 'MESSAGE', messageType: 'WEBMESSAGING', direction: 'INBOUND', sessionId: expect.any(String) });
      expect(browserEvent?.attributes).toEqual({ gsRef: 'ref-1', page: 'checkout' });
      expect(patchEvent?.attributes).toEqual({ gsRef: 'ref-1', page: 'checkout', tier: 'gold' });
      expect(endEvent).toMatchObject({ interactingDurationMs: 92_000, disconnectType: 'CLIENT', eventTime: Date.parse('2025-03-01T12:01:32.000Z') });
      expect(events[3]?.time).toBe('2025-03-01T12:01:32Z');
    });

    it('shows an ended conversation with its end time and refuses browser changes after it', async () => {
      // Prepare
      const started = await startConversation({ customAttributes: { gsRef: 'ref-1' } });
      await control(sandbox.url, 'POST', `/__sandbox/messenger/conversations/${started.conversationId}/end`);

      // Act
      const conversation = await getConversation(started.conversationId);
      const late = await call(`${sandbox.url}/__sandbox/messenger/conversations/${started.conversationId}/attributes`, undefined, 'POST', {
        customAttributes: { a: 'b' },
      });

      // Assess
      expect(conversation.endTime).toBe('2025-03-01T12:00:00.000Z');
      expect(late.status).toBe(409);
    });

    it('counts each further guest message for analytics and merges the custom attributes it carries', async () => {
      // Prepare
      const started = await startConversation({ customAttributes: { gsRef: 'ref-1' } });

      // Act
      await control(sandbox.url, 'POST', `/__sandbox/messenger/conversations/${started.conversationId}/messages`);
      await control(sandbox.url, 'POST', `/__sandbox/messenger/conversations/${started.conversationId}/messages`, {
        customAttributes: { page: 'cart' },
      });
      const details = (await (
        await call(`${sandbox.url}/api/v2/analytics/conversations/${started.conversationId}/details`, token, 'GET')
      ).json()) as { participants: Array<{ purpose: string; sessions: Array<{ mediaCount?: number }> }> };

      // Assess
      expect(details.participants[0]).toMatchObject({ purpose: 'customer', sessions: [{ mediaCount: 3 }] });
      expect((await getConversation(started.conversationId)).participants[0]?.attributes).toEqual({ gsRef: 'ref-1', page: 'cart' });
      expect(sandbox.state().events.map((event) => event['detail-type'].split('.').pop())).toEqual(['start', 'attributes']);
    });

    it('refuses custom attributes that are not strings, and a deployment that is not Active', async () => {
      // Prepare
      await control(sandbox.url, 'POST', '/__sandbox/deployments/dep-1', { status: 'Inactive' });

      // Act
      const nonString = await call(`${sandbox.url}/__sandbox/messenger/conversations`, undefined, 'POST', { customAttributes: { age: 42 } });
      const inactive = await call(`${sandbox.url}/__sandbox/messenger/conversations`, undefined, 'POST', { deploymentId: 'dep-1' });

      // Assess
      expect(nonString.status).toBe(400);
      expect(await nonString.json()).toMatchObject({ message: 'customAttributes.age must be a string' });
      expect(inactive.status).toBe(409);
      expect(sandbox.state().conversations).toEqual({});
    });

    it('can start a conversation without an agent side and with the attributes event Genesys may also send', async () => {
      // Act
      const started = await startConversation({ customAttributes: { gsRef: 'ref-2' }, agent: false, attributesEvent: true });

      // Assess
      expect(started.agentParticipantId).toBeUndefined();
      expect(sandbox.state().events.map((event) => event.detail.topicName)).toEqual([
        `v2.detail.events.conversation.${started.conversationId}.customer.start`,
        `v2.detail.events.conversation.${started.conversationId}.attributes`,
      ]);
    });
  });

  describe('with a publish hook', () => {
    it('hands every event to the hook in order, and records a hook failure without failing the request', async () => {
      // Prepare
      const received: string[] = [];
      let calls = 0;
      await start({
        publish: (event) => {
          calls += 1;
          if (calls === 2) throw new Error('bus unavailable');
          received.push(event.detail.topicName);
        },
      });
      const started = await startConversation({ customAttributes: { gsRef: 'ref-1' } });

      // Act
      const browser = await call(`${sandbox.url}/__sandbox/messenger/conversations/${started.conversationId}/attributes`, undefined, 'POST', {
        customAttributes: { page: 'x' },
      });
      await control(sandbox.url, 'POST', `/__sandbox/messenger/conversations/${started.conversationId}/end`);
      await sandbox.flushEvents();

      // Assess
      const state = sandbox.state();
      expect(browser.status).toBe(200);
      expect(received).toEqual([
        `v2.detail.events.conversation.${started.conversationId}.customer.start`,
        `v2.detail.events.conversation.${started.conversationId}.customer.end`,
      ]);
      expect(state.publishFailures).toEqual([{ eventId: state.events[1]?.id, message: 'bus unavailable' }]);
    });
  });

  describe('with an EventBridge PutEvents endpoint', () => {
    let bus: ScriptedServer;
    let refuse: boolean;
    /** The PutEvents requests the bus received, their bodies parsed. */
    const requests = (): Array<{ headers: IncomingHttpHeaders; body: { Entries: Array<Record<string, unknown>> } }> =>
      bus.requests.map((request) => ({ headers: request.headers, body: JSON.parse(request.body) as never }));

    beforeEach(async () => {
      refuse = false;
      bus = await startScriptedServer([], {
        after: () => ({
          status: 200,
          headers: { 'content-type': 'application/x-amz-json-1.1' },
          body: refuse
            ? { FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }] }
            : { FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] },
        }),
      });
      await start({ putEvents: { url: bus.url, eventBusName: `aws.partner/genesys.com/cloud/${ORG}/guest-sync` } });
    });

    afterEach(async () => {
      await bus.close();
    });

    it('sends each event as an AWSEvents.PutEvents entry that carries the Genesys detail', async () => {
      // Act
      const started = await startConversation({ customAttributes: { gsRef: 'ref-1' } });
      await sandbox.flushEvents();

      // Assess
      const [event] = sandbox.state().events;
      expect(requests()).toHaveLength(1);
      expect(requests()[0]?.headers).toMatchObject({ 'x-amz-target': 'AWSEvents.PutEvents', 'content-type': 'application/x-amz-json-1.1' });
      const entry = requests()[0]?.body.Entries[0];
      expect(entry).toMatchObject({
        Source: `aws.partner/genesys.com/cloud/${ORG}/guest-sync`,
        DetailType: 'v2.detail.events.conversation.{id}.customer.start',
        EventBusName: `aws.partner/genesys.com/cloud/${ORG}/guest-sync`,
        Resources: [],
      });
      expect(JSON.parse(entry?.Detail as string)).toEqual(event?.detail);
      expect((event?.detail.eventBody as { conversationId: string }).conversationId).toBe(started.conversationId);
    });

    it('records an entry the bus refuses', async () => {
      // Prepare
      refuse = true;

      // Act
      await startConversation({});
      await sandbox.flushEvents();

      // Assess
      expect(sandbox.state().publishFailures).toEqual([
        { eventId: sandbox.state().events[0]?.id, message: 'PutEvents refused the entry: InternalFailure try again' },
      ]);
    });
  });
});
