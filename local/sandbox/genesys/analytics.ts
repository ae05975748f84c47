/**
 * Analytics conversation details (SDK `AnalyticsApi`): `POST
 * /api/v2/analytics/conversations/details/query` (body model `ConversationQuery`, answer
 * `AnalyticsConversationQueryResponse`) and `GET
 * /api/v2/analytics/conversations/{conversationId}/details` (answer
 * `AnalyticsConversationWithoutAttributes`), built from the Messenger simulator's
 * conversations.
 */
import type { RouteDef } from '../server.ts';
import {
  genesysRoute,
  invalid,
  parseInterval,
  requireObject,
  type GenesysContext,
  type StoredConversation,
  type StoredParticipant,
} from './context.ts';
import { findConversation } from './conversations.ts';

/** Dimensions the sandbox can evaluate in a details query. */
const CONVERSATION_DIMENSIONS = new Set(['conversationId', 'originatingDirection', 'divisionId']);
const SEGMENT_DIMENSIONS = new Set([
  'conversationId',
  'externalContactId',
  'participantId',
  'purpose',
  'mediaType',
  'messageType',
  'sessionId',
  'queueId',
  'userId',
  'direction',
]);

function sessionView(conversation: StoredConversation, participant: StoredParticipant): Record<string, unknown> {
  const segment: Record<string, unknown> = {
    segmentStart: participant.connectedTime,
    segmentType: 'interact',
  };
  if (participant.endTime) {
    segment.segmentEnd = participant.endTime;
    segment.disconnectType = participant.purpose === 'customer' ? 'client' : 'peer';
  }
  if (participant.queueId) segment.queueId = participant.queueId;
  const session: Record<string, unknown> = {
    sessionId: participant.sessionId,
    mediaType: 'message',
    messageType: 'webmessaging',
    direction: 'inbound',
    segments: [segment],
    metrics: [{ name: 'nConnected', value: 1, emitDate: participant.connectedTime }],
  };
  if (participant.purpose === 'customer') session.mediaCount = participant.messageCount;
  if (conversation.deploymentId && participant.purpose === 'customer') session.addressTo = conversation.deploymentId;
  return session;
}

/** The SDK model `AnalyticsConversationWithoutAttributes` for a stored conversation. */
export function analyticsView(conversation: StoredConversation): Record<string, unknown> {
  const view: Record<string, unknown> = {
    conversationId: conversation.id,
    conversationStart: conversation.startTime,
    originatingDirection: 'inbound',
    divisionIds: [conversation.divisionId],
    participants: [conversation.customer, ...conversation.others].map((participant) => {
      const entry: Record<string, unknown> = {
        participantId: participant.id,
        purpose: participant.purpose,
        sessions: [sessionView(conversation, participant)],
      };
      if (participant.externalContactId) entry.externalContactId = participant.externalContactId;
      if (participant.userId) entry.userId = participant.userId;
      return entry;
    }),
  };
  if (conversation.endTime) view.conversationEnd = conversation.endTime;
  return view;
}

type Predicate = { dimension: string; operator: string; value?: string };

function readPredicate(raw: unknown, where: string, level: 'conversation' | 'segment'): Predicate {
  const predicate = requireObject(raw, where);
  const type = predicate.type ?? 'dimension';
  if (type !== 'dimension') throw invalid(`${where}.type`, `${where}.type ${String(type)}: the sandbox evaluates dimension predicates only`);
  const dimension = predicate.dimension;
  const known = level === 'conversation' ? CONVERSATION_DIMENSIONS : SEGMENT_DIMENSIONS;
  if (typeof dimension !== 'string' || !known.has(dimension)) {
    throw invalid(`${where}.dimension`, `${where}.dimension ${String(dimension)} is not one the sandbox evaluates (${[...known].join(', ')})`);
  }
  const operator = predicate.operator ?? 'matches';
  if (operator !== 'matches' && operator !== 'exists' && operator !== 'notExists') {
    throw invalid(`${where}.operator`, `${where}.operator must be matches, exists or notExists`);
  }
  if (operator === 'matches' && typeof predicate.value !== 'string') throw invalid(`${where}.value`, `${where}.value is required`);
  return { dimension, operator, value: predicate.value as string | undefined };
}

/** A filter as a test on a conversation (SDK models `*DetailQueryFilter`, `*Clause`, `*Predicate`). */
function readFilter(
  raw: unknown,
  where: string,
  level: 'conversation' | 'segment',
): (conversation: StoredConversation) => boolean {
  const filter = requireObject(raw, where);
  const type = filter.type;
  if (type !== 'and' && type !== 'or') throw invalid(`${where}.type`, `${where}.type must be "and" or "or"`);
  const tests: Array<(conversation: StoredConversation) => boolean> = [];
  const predicates = filter.predicates ?? [];
  if (!Array.isArray(predicates)) throw invalid(`${where}.predicates`, `${where}.predicates must be an array`);
  predicates.forEach((item, index) => {
    const predicate = readPredicate(item, `${where}.predicates[${index}]`, level);
    tests.push((conversation) => predicateHolds(conversation, predicate, level));
  });
  const clauses = filter.clauses ?? [];
  if (!Array.isArray(clauses)) throw invalid(`${where}.clauses`, `${where}.clauses must be an array`);
  clauses.forEach((item, index) => tests.push(readFilter(item, `${where}.clauses[${index}]`, level)));
  if (tests.length === 0) throw invalid(where, `${where} needs predicates or clauses`);
  return type === 'and' ? (c) => tests.every((test) => test(c)) : (c) => tests.some((test) => test(c));
}

function predicateHolds(conversation: StoredConversation, predicate: Predicate, level: 'conversation' | 'segment'): boolean {
  const values: Array<string | undefined> = [];
  if (level === 'conversation') {
    values.push(
      predicate.dimension === 'conversationId'
        ? conversation.id
        : predicate.dimension === 'divisionId'
          ? conversation.divisionId
          : 'inbound',
    );
  } else {
    for (const participant of [conversation.customer, ...conversation.others]) {
      const byDimension: Record<string, string | undefined> = {
        conversationId: conversation.id,
        externalContactId: participant.externalContactId,
        participantId: participant.id,
        purpose: participant.purpose,
        mediaType: 'message',
        messageType: 'webmessaging',
        sessionId: participant.sessionId,
        queueId: participant.queueId,
        userId: participant.userId,
        direction: 'inbound',
      };
      values.push(byDimension[predicate.dimension]);
    }
  }
  if (predicate.operator === 'exists') return values.some((value) => value !== undefined);
  if (predicate.operator === 'notExists') return values.every((value) => value === undefined);
  return values.some((value) => value === predicate.value);
}

/** The analytics routes. */
export function analyticsRoutes(ctx: GenesysContext): RouteDef[] {
  return [
    genesysRoute(
      'POST',
      '/api/v2/analytics/conversations/details/query',
      'postAnalyticsConversationsDetailsQuery',
      (req) => {
        const body = requireObject(req.json(), 'body');
        const { start, end } = parseInterval(body.interval);
        const tests: Array<(conversation: StoredConversation) => boolean> = [];
        for (const [key, level] of [
          ['conversationFilters', 'conversation'],
          ['segmentFilters', 'segment'],
        ] as const) {
          const filters = body[key] ?? [];
          if (!Array.isArray(filters)) throw invalid(key, `${key} must be an array`);
          filters.forEach((filter, index) => tests.push(readFilter(filter, `${key}[${index}]`, level)));
        }
        const order = body.order ?? 'asc';
        if (order !== 'asc' && order !== 'desc') throw invalid('order', 'order must be asc or desc');
        if (body.orderBy !== undefined && body.orderBy !== 'conversationStart') {
          throw invalid('orderBy', 'the sandbox orders by conversationStart only');
        }
        let pageSize = 25;
        let pageNumber = 1;
        if (body.paging !== undefined) {
          const paging = requireObject(body.paging, 'paging');
          pageSize = paging.pageSize as number;
          pageNumber = paging.pageNumber as number;
          if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) throw invalid('paging.pageSize', 'paging.pageSize must be an integer from 1 to 100');
          if (!Number.isInteger(pageNumber) || pageNumber < 1) throw invalid('paging.pageNumber', 'paging.pageNumber must be a positive integer');
        }
        const matched = [...ctx.world().conversations.values()]
          .filter((conversation) => {
            const at = Date.parse(conversation.startTime);
            return at >= start && at < end;
          })
          .filter((conversation) => tests.every((test) => test(conversation)))
          .sort((a, b) => Date.parse(a.startTime) - Date.parse(b.startTime));
        if (order === 'desc') matched.reverse();
        const page = matched.slice((pageNumber - 1) * pageSize, pageNumber * pageSize).map(analyticsView);
        const answer: Record<string, unknown> = { totalHits: matched.length };
        if (page.length > 0) answer.conversations = page;
        return { status: 200, body: answer };
      },
    ),
    genesysRoute('GET', '/api/v2/analytics/conversations/:conversationId/details', 'getAnalyticsConversationDetails', (req) => ({
      status: 200,
      body: analyticsView(findConversation(ctx, req.params.conversationId)),
    })),
  ];
}

