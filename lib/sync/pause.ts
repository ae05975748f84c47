/**
 * The CRM sync pause (docs/api.md section 5): one state-table item, `pause#crm-sync`, that
 * says the CRM cannot take work until a given time and why. The worker writes it the
 * moment it sees an outage; the control function keeps the worker's event source
 * mapping disabled while it holds, probes the CRM once it has run out, and deletes it
 * (re-enabling the mapping) when the CRM answers again.
 *
 * The item has no TTL on purpose: it must never vanish on its own while the mapping it
 * disabled is off, or nothing would turn the mapping back on.
 */
import { ConditionFailedError, type StateTable } from '#lib/state';

/** The pause's key in the state table. */
export const PAUSE_KEY = 'pause#crm-sync';

/** Why the CRM cannot take work: down or failing, refusing our credentials, or over a quota. */
export type PauseKind = 'outage' | 'credentials' | 'limit';

/** `paused`: hold the mapping off; `resuming`: the CRM answered, the mapping is being turned back on. */
export type PausePhase = 'paused' | 'resuming';

/** The pause item. Times are epoch ms. */
export interface PauseItem {
  pk: typeof PAUSE_KEY;
  [field: string]: unknown;
  /** No probe, no work before this time. */
  until: number;
  /** When the outage was first seen (kept across extensions). */
  since: number;
  kind: PauseKind;
  /** Why, in words an operator reads (no record content). */
  reason: string;
  phase: PausePhase;
  /** Probes of the CRM that failed since `since`. */
  probes: number;
}

/** What the pause needs of the state table. */
export type PauseStore = Pick<StateTable, 'get' | 'put' | 'delete'>;

/** True for the state table's refusal of a conditional write. */
export const isConditionFailed = (error: unknown): boolean => error instanceof ConditionFailedError;

/** The pause, when there is one. */
export async function readPause(store: PauseStore): Promise<PauseItem | undefined> {
  const item = await store.get<PauseItem>(PAUSE_KEY);
  return item && typeof item.until === 'number' ? item : undefined;
}

/** Whether the pause forbids CRM work at `now` (a `resuming` pause no longer does). */
export const holdsAt = (pause: PauseItem | undefined, now: number): boolean => pause !== undefined && pause.phase === 'paused' && pause.until > now;

/** What the worker saw that makes the CRM unable to take work. */
export interface PauseRequest {
  kind: PauseKind;
  reason: string;
  /** No probe before this time (epoch ms). */
  until: number;
}

/**
 * Pauses the CRM sync until `request.until`, or leaves a longer pause as it is: a pause
 * only ever moves forward, so two workers that see the same outage agree. Resolves with
 * the pause in force afterwards.
 */
export async function requestPause(store: PauseStore, request: PauseRequest, now: number): Promise<PauseItem> {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const current = await readPause(store);
    if (current && current.phase === 'paused' && current.until >= request.until) return current;
    const item: PauseItem = {
      pk: PAUSE_KEY,
      until: request.until,
      since: current?.phase === 'paused' ? current.since : now,
      kind: request.kind,
      reason: request.reason,
      phase: 'paused',
      probes: current?.phase === 'paused' ? current.probes : 0,
    };
    try {
      // Only over the pause just read (or none): a concurrent writer makes us read again.
      await store.put(item, current ? { kind: 'equals', field: 'until', value: current.until } : { kind: 'absent' });
      return item;
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
  }
  const settled = await readPause(store);
  if (settled) return settled;
  throw new Error('The CRM sync pause could not be written (it kept changing)');
}
