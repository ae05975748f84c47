/**
 * Genesys conversation events as Amazon EventBridge delivers them (docs/api.md section 3):
 * the EventBridge envelope `{version, id, detail-type, source, account, time, region,
 * resources, detail}` around Genesys's `{topicName, version, eventBody, metadata,
 * timestamp}`. Parsing is pure: a malformed event is described, never thrown, and a topic
 * the suite does not handle is told apart from a malformed one. Fields the suite does not
 * use are ignored.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '#lib/jobs';

/** The three topics the suite acts on (the part after `v2.detail.events.conversation.{id}.`). */
export const CONVERSATION_TOPICS = ['customer.start', 'attributes', 'customer.end'] as const;

/** One of the topics the suite acts on. */
export type ConversationTopic = (typeof CONVERSATION_TOPICS)[number];

/** The `detail-type` the rule matches for a topic: the template with a literal `{id}`. */
export function detailTypeOf(topic: ConversationTopic): string {
  return `v2.detail.events.conversation.{id}.${topic}`;
}

/** What the suite takes from one event; everything else in the envelope is left alone. */
export interface ConversationEvent {
  /** The EventBridge event id (the first dedupe key). */
  id: string;
  topic: ConversationTopic;
  /** The partner event source the event came from. */
  source: string;
  conversationId: string;
  participantId?: string;
  /** `eventBody.eventTime`, epoch milliseconds: what decides the order of events. */
  eventTime: number;
  /** `attributes` events: the participant's attributes (strings). */
  attributes?: Record<string, string>;
  /** `customer.end` events: how long the guest was interacting. */
  interactingDurationMs?: number;
  /** sha256 of the canonical `eventBody`: with topic, conversation, participant and time, the second dedupe key. */
  bodyHash: string;
}

/** The outcome of parsing one delivery. */
export type ParsedEvent =
  | { kind: 'event'; event: ConversationEvent }
  /** A well-formed event of a topic the suite does not act on. */
  | { kind: 'ignored'; detailType: string }
  /** Not an event the suite can read; `reason` names the field (never a value). */
  | { kind: 'malformed'; reason: string; id?: string };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const nonEmpty = (value: unknown): value is string => typeof value === 'string' && value !== '';

const TOPIC_NAME = /^v2\.detail\.events\.conversation\.([^.]+)\.(.+)$/;

/** Genesys sends `eventTime` as epoch milliseconds; an ISO date is accepted too. */
function eventTimeOf(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
  if (typeof value === 'string' && value !== '') {
    const parsed = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
    return Number.isFinite(parsed) && parsed > 0 ? parsed : undefined;
  }
  return undefined;
}

/** Reads one EventBridge delivery (pure). */
export function parseConversationEvent(raw: unknown): ParsedEvent {
  if (!isObject(raw)) return { kind: 'malformed', reason: 'the event is not an object' };
  const id = raw['id'];
  if (!nonEmpty(id)) return { kind: 'malformed', reason: 'id is missing' };
  const detailType = raw['detail-type'];
  if (!nonEmpty(detailType)) return { kind: 'malformed', reason: 'detail-type is missing', id };
  const topic = CONVERSATION_TOPICS.find((candidate) => detailTypeOf(candidate) === detailType);
  if (!topic) return { kind: 'ignored', detailType };
  const source = raw['source'];
  if (!nonEmpty(source)) return { kind: 'malformed', reason: 'source is missing', id };
  const detail = raw['detail'];
  if (!isObject(detail)) return { kind: 'malformed', reason: 'detail is not an object', id };
  const topicName = detail['topicName'];
  const match = typeof topicName === 'string' ? TOPIC_NAME.exec(topicName) : null;
  if (!match || match[2] !== topic) return { kind: 'malformed', reason: 'detail.topicName does not name the detail-type\'s topic', id };
  const body = detail['eventBody'];
  if (!isObject(body)) return { kind: 'malformed', reason: 'detail.eventBody is not an object', id };
  const conversationId = body['conversationId'];
  if (!nonEmpty(conversationId)) return { kind: 'malformed', reason: 'eventBody.conversationId is missing', id };
  if (conversationId !== match[1]) return { kind: 'malformed', reason: 'eventBody.conversationId differs from the topic\'s', id };
  const eventTime = eventTimeOf(body['eventTime']);
  if (eventTime === undefined) return { kind: 'malformed', reason: 'eventBody.eventTime is missing or not a time', id };
  const participantId = body['participantId'];
  if (participantId !== undefined && !nonEmpty(participantId)) return { kind: 'malformed', reason: 'eventBody.participantId is not a string', id };

  const event: ConversationEvent = {
    id,
    topic,
    source,
    conversationId,
    eventTime,
    bodyHash: createHash('sha256').update(canonicalJson(body)).digest('hex'),
    ...(participantId ? { participantId } : {}),
  };
  if (topic === 'attributes') {
    if (!participantId) return { kind: 'malformed', reason: 'eventBody.participantId is missing', id };
    const attributes = body['attributes'] ?? {};
    if (!isObject(attributes)) return { kind: 'malformed', reason: 'eventBody.attributes is not an object', id };
    const strings: Record<string, string> = {};
    for (const [key, value] of Object.entries(attributes)) {
      // Participant data holds strings; anything else is not what Genesys sends.
      if (typeof value !== 'string') return { kind: 'malformed', reason: 'eventBody.attributes holds a value that is not a string', id };
      strings[key] = value;
    }
    event.attributes = strings;
  }
  if (topic === 'customer.start' && !participantId) return { kind: 'malformed', reason: 'eventBody.participantId is missing', id };
  if (topic === 'customer.end') {
    const duration = body['interactingDurationMs'];
    if (typeof duration === 'number' && Number.isFinite(duration) && duration >= 0) event.interactingDurationMs = duration;
  }
  return { kind: 'event', event };
}

/** The second dedupe key: the same topic, conversation, participant, time and body are the same event. */
export function contentKeyOf(event: ConversationEvent): string {
  return createHash('sha256')
    .update([event.topic, event.conversationId, event.participantId ?? '', String(event.eventTime), event.bodyHash].join('\n'))
    .digest('base64url');
}
