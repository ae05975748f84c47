/**
 * What the worker does with messages it hands back during an outage, on SQS: keeps them
 * invisible until the pause ends (ChangeMessageVisibilityBatch), or, on their last
 * receive, sends them again as new messages (SendMessageBatch; the event source mapping
 * then deletes the old ones), so their receive count starts over and an outage never
 * pushes them into the DLQ. Job ids are deterministic, so a resent job is the same job.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueUrlCommand,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { sendSqsBatches } from '#lib/net/sqs';

/** The message attribute counting how often a job was sent again after an outage. */
export const RESEND_COUNT_ATTRIBUTE = 'resendCount';

/** `arn:aws:sqs:region:account:name` as its parts, or undefined. */
export function parseQueueArn(arn: string): { region: string; account: string; name: string } | undefined {
  const match = /^arn:[^:]+:sqs:([^:]*):([^:]*):([^:]+)$/.exec(arn);
  return match ? { region: match[1] ?? '', account: match[2] ?? '', name: match[3] ?? '' } : undefined;
}

const urls = new Map<string, Promise<string>>();

/**
 * The URL of a queue beside `dlqUrl`: same endpoint and account, the name the ARN gives
 * (SQS keeps a DLQ in the same account and region as its source queue), or undefined when
 * the DLQ URL names another account.
 */
export function queueUrlBeside(dlqUrl: string, eventSourceArn: string): string | undefined {
  const parsed = parseQueueArn(eventSourceArn);
  if (!parsed) return undefined;
  let url: URL;
  try {
    url = new URL(dlqUrl);
  } catch {
    return undefined;
  }
  const [account, name, ...rest] = url.pathname.split('/').filter(Boolean);
  if (!account || !name || rest.length > 0 || account !== parsed.account) return undefined;
  return `${url.origin}/${account}/${parsed.name}`;
}

/**
 * The URL of the queue a record came from (GetQueueUrl once per queue per container). When
 * SQS cannot find it by name (the function's region differs from the queue's, as in the
 * local stack), the queue beside the DLQ `dlqUrl` names, if given.
 */
export function queueUrlOf(client: SQSClient, eventSourceArn: string, dlqUrl?: string): Promise<string> {
  let url = urls.get(eventSourceArn);
  if (!url) {
    const parsed = parseQueueArn(eventSourceArn);
    if (!parsed) return Promise.reject(new Error('The record names no SQS queue ARN'));
    url = client
      .send(new GetQueueUrlCommand({ QueueName: parsed.name }))
      .then((result) => {
        if (!result.QueueUrl) throw new Error('GetQueueUrl answered no URL');
        return result.QueueUrl;
      })
      .catch((error: unknown) => {
        const beside = dlqUrl === undefined ? undefined : queueUrlBeside(dlqUrl, eventSourceArn);
        if (beside === undefined) throw error;
        return beside;
      });
    url.catch(() => urls.delete(eventSourceArn));
    urls.set(eventSourceArn, url);
  }
  return url;
}

/** Forgets the queue URLs (tests). */
export function resetQueueUrlsForTests(): void {
  urls.clear();
}

/** Records grouped by the queue they came from. */
function byQueue(records: readonly SQSRecord[]): Map<string, SQSRecord[]> {
  const groups = new Map<string, SQSRecord[]>();
  for (const record of records) {
    const group = groups.get(record.eventSourceARN);
    if (group) group.push(record);
    else groups.set(record.eventSourceARN, [record]);
  }
  return groups;
}

const groupsOfTen = <T>(items: readonly T[]): T[][] => Array.from({ length: Math.ceil(items.length / 10) }, (_, i) => items.slice(i * 10, i * 10 + 10));

/** Where the queue URLs come from besides GetQueueUrl: the DLQ's URL (see `queueUrlOf`). */
export interface QueueHints {
  dlqUrl?: string;
}

/** Keeps messages invisible for `seconds` more. Best effort: one that stays visible is merely received sooner. */
export async function holdBackMessages(client: SQSClient, records: readonly SQSRecord[], seconds: number, signal?: AbortSignal, hints: QueueHints = {}): Promise<void> {
  for (const [arn, group] of byQueue(records)) {
    const queueUrl = await queueUrlOf(client, arn, hints.dlqUrl);
    for (const ten of groupsOfTen(group)) {
      await client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: ten.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle, VisibilityTimeout: seconds })),
        }),
        signal ? { abortSignal: signal } : {},
      );
    }
  }
}

/** A Lambda event attribute as the SDK sends it (list values are not supported by SQS). */
function toSdkAttribute(attribute: SQSRecord['messageAttributes'][string]): MessageAttributeValue | undefined {
  if (attribute.stringValue !== undefined) return { DataType: attribute.dataType, StringValue: attribute.stringValue };
  if (attribute.binaryValue !== undefined) return { DataType: attribute.dataType, BinaryValue: Buffer.from(attribute.binaryValue, 'base64') };
  return undefined;
}

/** The entry that sends a record again: same body, same attributes, the resend counted (pure). */
export function resendEntry(record: SQSRecord, id: string, delaySeconds: number) {
  const attributes: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(record.messageAttributes ?? {})) {
    const converted = toSdkAttribute(value);
    if (converted && name !== RESEND_COUNT_ATTRIBUTE) attributes[name] = converted;
  }
  const previous = Number(record.messageAttributes?.[RESEND_COUNT_ATTRIBUTE]?.stringValue ?? 0);
  const count = (Number.isInteger(previous) && previous > 0 ? previous : 0) + 1;
  // SQS takes ten attributes; the count goes in only when there is room.
  if (Object.keys(attributes).length < 10) attributes[RESEND_COUNT_ATTRIBUTE] = { DataType: 'Number', StringValue: String(count) };
  return { Id: id, MessageBody: record.body, DelaySeconds: delaySeconds, MessageAttributes: attributes };
}

/**
 * Sends records again as new messages through the one SQS batch sender (one attempt each:
 * a record that stays unsent is handed back as before), within `budgetMs` if given;
 * resolves with the message ids that were NOT sent.
 */
export async function resendMessages(client: SQSClient, records: readonly SQSRecord[], delaySeconds: number, budgetMs?: number, hints: QueueHints = {}): Promise<Set<string>> {
  const unsent = new Set<string>();
  for (const [arn, group] of byQueue(records)) {
    let queueUrl: string;
    try {
      queueUrl = await queueUrlOf(client, arn, hints.dlqUrl);
    } catch {
      group.forEach((record) => unsent.add(record.messageId));
      continue;
    }
    const result = await sendSqsBatches(group, {
      queueUrl,
      client,
      entry: (record, id) => resendEntry(record, id, delaySeconds),
      maxAttempts: 1,
      ...(budgetMs === undefined ? {} : { budgetMs }),
    });
    result.unsent.forEach((record) => unsent.add(record.messageId));
  }
  return unsent;
}
