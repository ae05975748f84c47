/**
 * Conversation events as the Genesys Cloud EventBridge integration delivers them (docs/api.md
 * section 3): the EventBridge envelope around Genesys's `{topicName, version, eventBody,
 * metadata: {CorrelationId}, timestamp}`, and a publisher that sends them to an EventBridge
 * `PutEvents` endpoint with the AWS JSON 1.1 protocol.
 */
import { randomUUID } from 'node:crypto';
import type { ConversationEventEnvelope, ConversationTopic } from './context.ts';

/** Where the sandbox says its events come from (the partner event source). */
export interface EventSourceOptions {
  /** Genesys organisation id in the partner event source name. */
  organizationId: string;
  /** The integration's `eventSourceSuffix`. */
  eventSourceSuffix: string;
  /** AWS account and region the envelope names. */
  account: string;
  region: string;
}

/** The partner event source (and bus) name Genesys publishes to. */
export function partnerEventSource(options: Pick<EventSourceOptions, 'organizationId' | 'eventSourceSuffix'>): string {
  return `aws.partner/genesys.com/cloud/${options.organizationId}/${options.eventSourceSuffix}`;
}

/** The topic template a rule matches on `detail-type` (a literal `{id}`). */
export function topicTemplate(topic: ConversationTopic): string {
  return `v2.detail.events.conversation.{id}.${topic}`;
}

/** Builds one envelope; `at` is the sandbox clock's epoch ms. */
export function buildEnvelope(
  source: EventSourceOptions,
  topic: ConversationTopic,
  conversationId: string,
  eventBody: Record<string, unknown>,
  at: number,
): ConversationEventEnvelope {
  const iso = new Date(at).toISOString();
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': topicTemplate(topic),
    source: partnerEventSource(source),
    account: source.account,
    time: iso.replace(/\.\d{3}Z$/, 'Z'),
    region: source.region,
    resources: [],
    detail: {
      topicName: `v2.detail.events.conversation.${conversationId}.${topic}`,
      version: '2',
      eventBody,
      metadata: { CorrelationId: randomUUID() },
      timestamp: iso,
    },
  };
}

/** Receives each event the sandbox produces; a rejection is recorded, never thrown at a caller. */
export type PublishHook = (event: ConversationEventEnvelope) => void | Promise<void>;

/**
 * A publisher that calls EventBridge `PutEvents` at `url` (AWS JSON 1.1, target
 * `AWSEvents.PutEvents`, the request `@aws-sdk/client-eventbridge` sends, unsigned: meant for
 * the local bus). The bus builds its own envelope from the entry, as EventBridge does.
 */
export function putEventsPublisher(url: string, eventBusName: string): PublishHook {
  return async (event) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AWSEvents.PutEvents',
      },
      body: JSON.stringify({
        Entries: [
          {
            Source: event.source,
            DetailType: event['detail-type'],
            Detail: JSON.stringify(event.detail),
            EventBusName: eventBusName,
            Resources: event.resources,
            Time: Date.parse(event.time) / 1000,
          },
        ],
      }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`PutEvents answered ${response.status}: ${text.slice(0, 200)}`);
    const answer = (text ? JSON.parse(text) : {}) as { FailedEntryCount?: number; Entries?: Array<{ ErrorCode?: string; ErrorMessage?: string }> };
    if ((answer.FailedEntryCount ?? 0) > 0) {
      const failed = answer.Entries?.find((entry) => entry.ErrorCode);
      throw new Error(`PutEvents refused the entry: ${failed?.ErrorCode ?? 'unknown'} ${failed?.ErrorMessage ?? ''}`.trim());
    }
  };
}
