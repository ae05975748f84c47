/**
 * What the generic CRM sandbox (`crm.ts`) and the provider sandboxes (`crm-providers/`)
 * share, written once: per-record failure rules (`POST /__sandbox/record-failures`), how a
 * rule is read and matched, and the request log with its count per status.
 */
import { randomUUID } from 'node:crypto';
import { HttpError, type RequestLogEntry } from './server.ts';

/** A rule for `POST /__sandbox/record-failures`: fail matching records with `code`. */
export interface RecordFailureRule {
  /** Exact external id; with neither this nor the prefix the rule matches every record. */
  externalId?: string;
  externalIdPrefix?: string;
  code: string;
  message?: string;
  /** How many records it fails (default: unlimited). */
  times?: number;
}

/** A stored per-record failure rule with its counter. */
export interface StoredRecordFailureRule extends RecordFailureRule {
  id: string;
  applied: number;
}

/** The requests a sandbox answered: counted per status (`"dropped"` for destroyed sockets) and logged. */
export interface RequestLog {
  requestsByStatus: Record<string, number>;
  log: RequestLogEntry[];
}

const MAX_LOG = 5_000;

/** Reads `rules[index]` of a record-failures body (a JSON object); 400 when a field is wrong. */
export function parseRecordFailureRule(raw: Record<string, unknown>, index: number): StoredRecordFailureRule {
  if (typeof raw.code !== 'string' || raw.code === '') throw new HttpError(400, `rules[${index}].code is required`);
  const rule: StoredRecordFailureRule = { id: randomUUID(), code: raw.code, applied: 0 };
  for (const key of ['externalId', 'externalIdPrefix', 'message'] as const) {
    if (raw[key] === undefined) continue;
    if (typeof raw[key] !== 'string') throw new HttpError(400, `rules[${index}].${key} must be a string`);
    rule[key] = raw[key];
  }
  if (raw.times !== undefined) {
    if (typeof raw.times !== 'number' || !Number.isInteger(raw.times) || raw.times < 1) throw new HttpError(400, `rules[${index}].times must be a positive integer`);
    rule.times = raw.times;
  }
  return rule;
}

/** The first live rule matching `externalId`, if any; `consume` moves its counter on. */
export function takeRecordFailure(rules: StoredRecordFailureRule[], externalId: string, consume = true): StoredRecordFailureRule | undefined {
  const rule = rules.find(
    (r) =>
      (r.times === undefined || r.applied < r.times) &&
      (r.externalId === undefined || r.externalId === externalId) &&
      (r.externalIdPrefix === undefined || externalId.startsWith(r.externalIdPrefix)),
  );
  if (rule && consume) rule.applied += 1;
  return rule;
}

/** Appends one request log line (the newest 5,000 are kept) and counts its status. */
export function logRequest(world: RequestLog, entry: RequestLogEntry): void {
  const bucket = entry.dropped ? 'dropped' : String(entry.status);
  world.requestsByStatus[bucket] = (world.requestsByStatus[bucket] ?? 0) + 1;
  world.log.push(entry);
  if (world.log.length > MAX_LOG) world.log.splice(0, world.log.length - MAX_LOG);
}
