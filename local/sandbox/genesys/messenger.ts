/**
 * The Messenger simulator (docs/api.md sections 3 and 9): control routes that do what a
 * guest's browser does through Genesys Messenger, since no public API can. A first message
 * starts a web messaging conversation (its custom attributes become the customer
 * participant's attributes); `Database.set` plus a message changes them (merge); closing
 * ends the conversation. Each step produces the conversation event Genesys would.
 */
import { randomUUID } from 'node:crypto';
import { HttpError, controlRoute, optionalJson, type RouteDef } from '../server.ts';
import { isPlainObject } from '../util.ts';
import type { GenesysContext, StoredConversation, StoredParticipant } from './context.ts';
import { conversationView, mergeParticipantAttributes } from './conversations.ts';
import { deploymentView } from './web-deployments.ts';

/** The division the simulator's conversations belong to. */
export const SANDBOX_DIVISION_ID = '00000000-0000-4000-8000-00000000d175';

/** Custom attributes as the Messenger sends them: strings only (else 400 naming the key). */
function customAttributes(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw new HttpError(400, 'customAttributes must be an object of strings');
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') throw new HttpError(400, `customAttributes.${key} must be a string`);
  }
  return value as Record<string, string>;
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new HttpError(400, `${key} must be a non-empty string`);
  return value;
}

/** What the start route answers: the ids a test needs, and the conversation as the API shows it. */
function started(conversation: StoredConversation): Record<string, unknown> {
  return {
    conversationId: conversation.id,
    customerParticipantId: conversation.customer.id,
    ...(conversation.others[0] ? { agentParticipantId: conversation.others[0].id } : {}),
    conversation: conversationView(conversation),
  };
}

/** The simulator's control routes, under `/__sandbox/messenger/`. */
export function messengerRoutes(ctx: GenesysContext): RouteDef[] {
  const live = (id: string | undefined): StoredConversation => {
    const conversation = id ? ctx.world().conversations.get(id) : undefined;
    if (!conversation) throw new HttpError(404, `Conversation ${id ?? ''} not found`);
    if (conversation.endTime) throw new HttpError(409, `Conversation ${conversation.id} has ended`);
    return conversation;
  };

  const externalIds = (conversation: StoredConversation): string[] =>
    conversation.customer.externalContactId ? [conversation.customer.externalContactId] : [];

  return [
    controlRoute('POST', '/__sandbox/messenger/conversations', (req) => {
      const body = (optionalJson(req) ?? {}) as unknown;
      if (!isPlainObject(body)) throw new HttpError(400, 'The body must be a JSON object');
      const attributes = customAttributes(body.customAttributes);
      const deploymentId = optionalString(body, 'deploymentId');
      if (deploymentId !== undefined) {
        const deployment = deploymentView(ctx, deploymentId);
        if (deployment.status !== 'Active') {
          throw new HttpError(409, `Web deployment ${deploymentId} is ${String(deployment.status)}; the Messenger cannot start a conversation`);
        }
      }
      const queueId = optionalString(body, 'queueId') ?? 'c0ffee00-0000-4000-8000-00000000a0d1';
      const externalContactId = optionalString(body, 'externalContactId');
      if (body.agent !== undefined && typeof body.agent !== 'boolean') throw new HttpError(400, 'agent must be a boolean');
      const now = ctx.nowIso();
      const customer: StoredParticipant = {
        id: randomUUID(),
        purpose: 'customer',
        startTime: now,
        connectedTime: now,
        attributes: { ...attributes },
        sessionId: randomUUID(),
        messageCount: 1,
      };
      if (externalContactId) customer.externalContactId = externalContactId;
      const conversation: StoredConversation = {
        id: randomUUID(),
        startTime: now,
        divisionId: SANDBOX_DIVISION_ID,
        customer,
        others:
          body.agent === false
            ? []
            : [
                {
                  id: randomUUID(),
                  purpose: 'acd',
                  startTime: now,
                  connectedTime: now,
                  attributes: {},
                  sessionId: randomUUID(),
                  queueId,
                  messageCount: 0,
                },
              ],
      };
      if (deploymentId) conversation.deploymentId = deploymentId;
      ctx.world().conversations.set(conversation.id, conversation);
      ctx.notePii('messenger.start', conversation.id, attributes);
      ctx.emit('customer.start', conversation, {
        eventTime: ctx.clock.now(),
        conversationId: conversation.id,
        participantId: customer.id,
        sessionId: customer.sessionId,
        mediaType: 'MESSAGE',
        messageType: 'WEBMESSAGING',
        direction: 'INBOUND',
        ...(deploymentId ? { addressTo: deploymentId } : {}),
        ...(externalContactId ? { externalContactId } : {}),
        conversationExternalContactIds: externalIds(conversation),
        conversationExternalOrganizationIds: [],
        divisionId: conversation.divisionId,
      });
      if (body.attributesEvent === true && Object.keys(attributes).length > 0) {
        mergeParticipantAttributes(ctx, conversation, customer, {});
      }
      return { status: 201, body: started(conversation) };
    }),
    controlRoute('POST', '/__sandbox/messenger/conversations/:conversationId/attributes', (req) => {
      const conversation = live(req.params.conversationId);
      const body = req.json();
      if (!isPlainObject(body)) throw new HttpError(400, 'The body must be {customAttributes: {...}}');
      const attributes = customAttributes(body.customAttributes);
      ctx.notePii('messenger.attributes', conversation.id, attributes);
      conversation.customer.messageCount += 1;
      mergeParticipantAttributes(ctx, conversation, conversation.customer, attributes);
      return { status: 200, body: conversationView(conversation) };
    }),
    controlRoute('POST', '/__sandbox/messenger/conversations/:conversationId/messages', (req) => {
      const conversation = live(req.params.conversationId);
      const body = (optionalJson(req) ?? {}) as unknown;
      if (!isPlainObject(body)) throw new HttpError(400, 'The body must be a JSON object');
      conversation.customer.messageCount += 1;
      if (body.customAttributes !== undefined) {
        const attributes = customAttributes(body.customAttributes);
        ctx.notePii('messenger.message', conversation.id, attributes);
        mergeParticipantAttributes(ctx, conversation, conversation.customer, attributes);
      }
      return { status: 200, body: conversationView(conversation) };
    }),
    controlRoute('POST', '/__sandbox/messenger/conversations/:conversationId/end', (req) => {
      const conversation = live(req.params.conversationId);
      const now = ctx.clock.now();
      const iso = new Date(now).toISOString();
      conversation.endTime = iso;
      for (const participant of [conversation.customer, ...conversation.others]) participant.endTime = iso;
      const customer = conversation.customer;
      ctx.emit('customer.end', conversation, {
        eventTime: now,
        conversationId: conversation.id,
        participantId: customer.id,
        sessionId: customer.sessionId,
        disconnectType: 'CLIENT',
        mediaType: 'MESSAGE',
        messageType: 'WEBMESSAGING',
        direction: 'INBOUND',
        ...(customer.externalContactId ? { externalContactId: customer.externalContactId } : {}),
        interactingDurationMs: now - Date.parse(customer.connectedTime),
        conversationExternalContactIds: externalIds(conversation),
        conversationExternalOrganizationIds: [],
        divisionId: conversation.divisionId,
      });
      return { status: 200, body: conversationView(conversation) };
    }),
  ];
}
