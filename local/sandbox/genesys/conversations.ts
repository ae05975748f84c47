/**
 * Conversations and participants: `GET /api/v2/conversations/{conversationId}` (SDK
 * `getConversation` -> model `Conversation`) and `PATCH
 * /api/v2/conversations/{conversationId}/participants/{participantId}/attributes` (SDK
 * `patchConversationParticipantAttributes`, body model `ParticipantAttributes`, answer
 * `Promise<void>`), which merges string attributes and produces an `attributes` event.
 */
import type { RouteDef } from '../server.ts';
import {
  genesysRoute,
  notFound,
  requireObject,
  requireStringMap,
  type GenesysContext,
  type StoredConversation,
  type StoredParticipant,
} from './context.ts';

/** The SDK model `Participant` for a stored participant. */
function participantView(participant: StoredParticipant): Record<string, unknown> {
  const view: Record<string, unknown> = {
    id: participant.id,
    startTime: participant.startTime,
    connectedTime: participant.connectedTime,
    purpose: participant.purpose,
    attributes: { ...participant.attributes },
    messages: [
      {
        id: participant.sessionId,
        state: participant.endTime ? 'disconnected' : 'connected',
        direction: 'inbound',
        type: 'webmessaging',
        connectedTime: participant.connectedTime,
        ...(participant.endTime ? { disconnectedTime: participant.endTime, disconnectType: 'client' } : {}),
      },
    ],
  };
  if (participant.endTime) view.endTime = participant.endTime;
  if (participant.queueId) view.queueId = participant.queueId;
  if (participant.userId) view.userId = participant.userId;
  if (participant.externalContactId) view.externalContactId = participant.externalContactId;
  return view;
}

/** The SDK model `Conversation` for a stored conversation. */
export function conversationView(conversation: StoredConversation): Record<string, unknown> {
  const view: Record<string, unknown> = {
    id: conversation.id,
    startTime: conversation.startTime,
    participants: [conversation.customer, ...conversation.others].map(participantView),
    divisions: [{ division: { id: conversation.divisionId, selfUri: `/api/v2/authorization/divisions/${conversation.divisionId}` }, entities: [] }],
    selfUri: `/api/v2/conversations/${conversation.id}`,
  };
  if (conversation.endTime) view.endTime = conversation.endTime;
  return view;
}

/** Finds a conversation or answers Genesys's 404. */
export function findConversation(ctx: GenesysContext, id: string | undefined): StoredConversation {
  const conversation = id ? ctx.world().conversations.get(id) : undefined;
  if (!conversation) throw notFound('Conversation', id ?? '');
  return conversation;
}

/**
 * Merges string attributes into a participant and produces the `attributes` event with
 * the participant's whole map (SDK model `AttributeDetailEventTopicAttributeUpdateEvent`).
 */
export function mergeParticipantAttributes(
  ctx: GenesysContext,
  conversation: StoredConversation,
  participant: StoredParticipant,
  attributes: Record<string, string>,
): void {
  participant.attributes = { ...participant.attributes, ...attributes };
  ctx.emit('attributes', conversation, {
    eventTime: ctx.clock.now(),
    conversationId: conversation.id,
    participantId: participant.id,
    attributes: { ...participant.attributes },
    conversationExternalContactIds: conversation.customer.externalContactId ? [conversation.customer.externalContactId] : [],
    conversationExternalOrganizationIds: [],
    communications: [{ id: participant.sessionId, mediaType: 'MESSAGE' }],
  });
}

/** The conversation routes. */
export function conversationRoutes(ctx: GenesysContext): RouteDef[] {
  return [
    genesysRoute('GET', '/api/v2/conversations/:conversationId', 'getConversation', (req) => ({
      status: 200,
      body: conversationView(findConversation(ctx, req.params.conversationId)),
    })),
    genesysRoute(
      'PATCH',
      '/api/v2/conversations/:conversationId/participants/:participantId/attributes',
      'patchConversationParticipantAttributes',
      (req) => {
        const conversation = findConversation(ctx, req.params.conversationId);
        const participantId = req.params.participantId ?? '';
        const participant = [conversation.customer, ...conversation.others].find((p) => p.id === participantId);
        if (!participant) throw notFound('Participant', participantId);
        const body = requireObject(req.json(), 'body');
        const attributes = requireStringMap(body.attributes ?? {}, 'attributes');
        ctx.notePii('patchConversationParticipantAttributes', conversation.id, attributes);
        mergeParticipantAttributes(ctx, conversation, participant, attributes);
        return { status: 202 };
      },
    ),
  ];
}
