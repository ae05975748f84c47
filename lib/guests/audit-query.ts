/**
 * Genesys' platform audit trail of one guest, through the public audit query API
 * (contract section 4): submit a query, poll its transaction until it has succeeded,
 * then page through the results with the cursor. Used by `npm run audit`.
 */
import { DependencyError, ValidationError } from '#lib/errors';
import { deadlineAfter, type AuditLogMessage, type GenesysClient } from '#lib/genesys';
import { maskIdentifiers } from '#lib/pii';

/** What to look for. */
export interface GuestAuditQuery {
  guestId: string;
  from: Date;
  to: Date;
  /** The audited service (default `Conversations`, where Web Messaging guests live). */
  serviceName?: string;
  /** Results per page (default 100; Genesys allows up to 500). */
  pageSize?: number;
  /** Longest wait for the query to finish (default 60 s). */
  timeoutMs?: number;
  /** Wait between status polls (default 500 ms, doubling up to 5 s). */
  pollIntervalMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** Bound on pages read, so a cursor that never ends cannot loop forever. */
const MAX_PAGES = 1_000;

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Submits, polls and pages; resolves with every audit entry of the guest in the interval, oldest first. */
export async function queryGuestAudit(
  client: Pick<GenesysClient, 'submitAuditQuery' | 'getAuditQuery' | 'getAuditQueryResults'>,
  query: GuestAuditQuery,
): Promise<AuditLogMessage[]> {
  if (query.guestId.trim() === '') throw new ValidationError('A guest id is required.', [{ path: 'guest', message: 'is required' }]);
  if (!(query.from.getTime() < query.to.getTime())) {
    throw new ValidationError('The interval must start before it ends.', [{ path: 'from', message: 'must be before to' }]);
  }
  const timeoutMs = query.timeoutMs ?? 60_000;
  const sleep = query.sleep ?? defaultSleep;
  const now = query.now ?? Date.now;
  const deadline = deadlineAfter(timeoutMs, now);
  const call = { deadline };

  const { body: submitted } = await client.submitAuditQuery(
    {
      interval: `${query.from.toISOString()}/${query.to.toISOString()}`,
      serviceName: query.serviceName ?? 'Conversations',
      filters: [{ property: 'EntityId', value: query.guestId }],
      sort: [{ name: 'Timestamp', sortOrder: 'ascending' }],
    },
    call,
  );
  const transactionId = submitted.id;

  let state = submitted.state;
  let wait = query.pollIntervalMs ?? 500;
  while (state !== 'Succeeded') {
    if (state === 'Failed' || state === 'Cancelled') {
      throw new DependencyError(`The Genesys audit query ${transactionId} ended as ${state}.`);
    }
    if (deadline.remainingMs() <= wait) {
      throw new DependencyError(`The Genesys audit query ${transactionId} did not finish within ${timeoutMs} ms (last state ${state}).`, 504);
    }
    await sleep(wait);
    wait = Math.min(wait * 2, 5_000);
    state = (await client.getAuditQuery(transactionId, call)).body.state;
  }

  const entries: AuditLogMessage[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const { body } = await client.getAuditQueryResults(
      transactionId,
      { pageSize: query.pageSize ?? 100, ...(cursor ? { cursor } : {}) },
      call,
    );
    entries.push(...(body.entities ?? []));
    if (!body.cursor || body.cursor === cursor) return entries;
    cursor = body.cursor;
  }
  throw new DependencyError(`The Genesys audit query ${transactionId} returned more than ${MAX_PAGES} pages.`);
}

const actorOf = (entry: AuditLogMessage): string =>
  entry.user?.id ? `user ${entry.user.id}` : entry.client?.id ? `client ${entry.client.id}` : '-';

/**
 * The entries as a plain-text table: date, action, entity, actor and the names of the
 * changed properties (values are left out: they can be long, hashed or personal).
 */
export function formatAuditTable(entries: readonly AuditLogMessage[]): string {
  const header = ['date', 'action', 'entity', 'actor', 'changed properties'];
  const rows = entries.map((entry) => [
    entry.eventDate,
    entry.action ?? '-',
    `${entry.entityType ?? 'entity'} ${entry.entity?.id ?? '-'}`,
    actorOf(entry),
    (entry.propertyChanges ?? []).map((change) => change.property).join(', ') || '-',
  ].map((cell) => maskIdentifiers(cell).value));
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
