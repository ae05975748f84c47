/**
 * The pure decisions of the events function (docs/api.md section 3): which prepared
 * attributes the participant must be given again, and the CRM sync jobs a linked
 * conversation produces. No I/O, so each rule is a table of cases in the tests.
 */
import { buildJob, deterministicJobId, type CrmRecord, type CrmSyncJob } from '#lib/jobs';

/** The attribute the page passes with `Database.set` that names the prepared session. */
export const SESSION_REF_ATTRIBUTE = 'gsRef';

/**
 * The prepared attributes whose participant value differs or is missing: exactly what
 * one PATCH must send. Attributes the suite did not prepare are left as the browser set them.
 */
export function attributesToReassert(prepared: Readonly<Record<string, string>>, current: Readonly<Record<string, string>>): Record<string, string> {
  const patch: Record<string, string> = {};
  for (const [key, value] of Object.entries(prepared)) {
    if (key === SESSION_REF_ATTRIBUTE) continue;
    if (current[key] !== value) patch[key] = value;
  }
  return patch;
}

/** What a link between a prepared session and a conversation tells the CRM. */
export interface LinkFacts {
  sessionId: string;
  conversationId: string;
  participantId: string;
  /** When the conversation event happened (epoch ms): the record's version. */
  eventTime: number;
}

/**
 * The job for a new link: the session's CRM record learns its conversation. Its id comes
 * from the link alone, so every delivery of every event that makes the link yields one job.
 */
export function buildLinkJob(facts: LinkFacts, now: Date = new Date()): CrmSyncJob {
  const at = new Date(facts.eventTime).toISOString();
  const channelContext = { channel: 'webmessaging', conversationId: facts.conversationId, participantId: facts.participantId };
  const record: CrmRecord = { externalId: facts.sessionId, channelContext, lastInteraction: at, sourceUpdatedAt: at };
  return buildJob('event', deterministicJobId('event', { link: facts.conversationId, externalId: facts.sessionId, participantId: facts.participantId }), record, now);
}

/** What the end of a linked conversation tells the CRM. */
export interface EndFacts {
  sessionId: string;
  conversationId: string;
  eventTime: number;
  interactingDurationMs?: number;
}

/** The `lastInteraction` job when a linked conversation ends (one per conversation). */
export function buildEndJob(facts: EndFacts, now: Date = new Date()): CrmSyncJob {
  const at = new Date(facts.eventTime).toISOString();
  const channelContext = {
    channel: 'webmessaging',
    conversationId: facts.conversationId,
    conversationEndedAt: at,
    ...(facts.interactingDurationMs === undefined ? {} : { interactingDurationMs: facts.interactingDurationMs }),
  };
  const record: CrmRecord = { externalId: facts.sessionId, channelContext, lastInteraction: at, sourceUpdatedAt: at };
  return buildJob('event', deterministicJobId('event', { end: facts.conversationId, externalId: facts.sessionId }), record, now);
}
