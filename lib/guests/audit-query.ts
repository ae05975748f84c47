/**
 * Genesys' platform audit trail of one guest, through the public audit query API
 * (docs/api.md section 4): check the service against the organisation's service mapping,
 * submit a query filtered on the guest's contact id, poll its transaction until it has
 * succeeded, then page through the results with the cursor. Used by `npm run audit`.
 *
 * What the trail can show: changes to the guest's external contact recorded by Genesys
 * under the service `ExternalContacts` (create, update, merge, delete; who made them, user
 * or OAuth client; which properties changed), when the organisation's service mapping
 * offers that service for queries. What it cannot show: the values the suite never sends
 * (raw email or phone: only hashes exist), the guest's conversations and messages
 * (conversations are not an audit service; their record is analytics and the interaction
 * audit), reads (audits record changes, not who looked), the suite's own reasoning (merges,
 * masked attributes: the structured `Guest audit` log entries of the guest functions hold
 * those), and anything older than Genesys keeps audits.
 */
import { DependencyError, ValidationError } from '#lib/errors';
import { deadlineAfter, genesysOperations, type AuditLogMessage, type Deadline, type GenesysClient } from '#lib/genesys';
import { maskIdentifiers } from '#lib/pii';

/** The audit service under which Genesys records changes to external contacts (guests). */
export const GUEST_AUDIT_SERVICE = 'ExternalContacts';

/** What to look for. */
export interface GuestAuditQuery {
  guestId: string;
  from: Date;
  to: Date;
  /** The audited service (default `ExternalContacts`); checked against the service mapping. */
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

/** The service asked for, as the organisation's service mapping spells it, or a 400 listing the valid ones. */
export async function resolveAuditService(
  client: Pick<GenesysClient, 'call'>,
  requested: string = GUEST_AUDIT_SERVICE,
  options: { deadline?: Deadline } = {},
): Promise<string> {
  const { body } = await client.call(genesysOperations.getAuditServiceMapping, options.deadline ? { deadline: options.deadline } : {});
  const names = (body.services ?? []).map((service) => service.name).filter((name): name is string => typeof name === 'string');
  const match = names.find((name) => name.toLowerCase() === requested.toLowerCase());
  if (match) return match;
  throw new ValidationError(
    `The audit query service mapping of this organisation does not offer "${requested}"; it offers: ${names.join(', ') || '(none)'}.`,
    [{ path: 'serviceName', message: `must be one of ${names.join(', ')}` }],
  );
}

/** Bound on pages read, so a cursor that never ends cannot loop forever. */
const MAX_PAGES = 1_000;

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Submits, polls and pages; resolves with every audit entry of the guest in the interval, oldest first. */
export async function queryGuestAudit(client: Pick<GenesysClient, 'call'>, query: GuestAuditQuery): Promise<AuditLogMessage[]> {
  if (query.guestId.trim() === '') throw new ValidationError('A guest id is required.', [{ path: 'guest', message: 'is required' }]);
  if (!(query.from.getTime() < query.to.getTime())) {
    throw new ValidationError('The interval must start before it ends.', [{ path: 'from', message: 'must be before to' }]);
  }
  const timeoutMs = query.timeoutMs ?? 60_000;
  const sleep = query.sleep ?? defaultSleep;
  const now = query.now ?? Date.now;
  const deadline = deadlineAfter(timeoutMs, now);
  const call = { deadline };

  const serviceName = await resolveAuditService(client, query.serviceName ?? GUEST_AUDIT_SERVICE, call);
  const { body: submitted } = await client.call(genesysOperations.submitAuditQuery, {
    ...call,
    body: {
      interval: `${query.from.toISOString()}/${query.to.toISOString()}`,
      serviceName,
      filters: [{ property: 'EntityId', value: query.guestId }],
      sort: [{ name: 'Timestamp', sortOrder: 'ascending' }],
    },
  });
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
    state = (await client.call(genesysOperations.getAuditQuery, { ...call, params: { transactionId } })).body.state;
  }

  const entries: AuditLogMessage[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const { body } = await client.call(genesysOperations.getAuditQueryResults, {
      ...call,
      params: { transactionId },
      query: { pageSize: query.pageSize ?? 100, ...(cursor ? { cursor } : {}) },
    });
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
