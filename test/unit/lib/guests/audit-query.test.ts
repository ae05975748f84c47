import { describe, expect, it } from 'vitest';
import { DependencyError, ValidationError } from '#lib/errors';
import type { AuditLogMessage, AuditQueryRequest, AuditQueryResultsQuery, AuditQueryState } from '#lib/genesys';
import { formatAuditTable, queryGuestAudit } from '#lib/guests';

const entry = (n: number, extra: Partial<AuditLogMessage> = {}): AuditLogMessage => ({
  id: `a-${n}`,
  eventDate: `2025-03-01T10:0${n}:00.000Z`,
  action: n === 0 ? 'Create' : 'Update',
  entityType: 'Guest',
  entity: { id: 'g-1' },
  client: { id: 'crm-connector' },
  propertyChanges: [{ property: 'attributes', oldValues: [], newValues: ['{"tier":"gold"}'] }],
  ...extra,
});

/** An audit API that answers `states` to the polls and serves `entries` in pages. */
function auditApi(states: AuditQueryState[], entries: AuditLogMessage[]) {
  const submitted: AuditQueryRequest[] = [];
  const pages: AuditQueryResultsQuery[] = [];
  let polls = 0;
  return {
    submitted,
    pages,
    polls: () => polls,
    client: {
      submitAuditQuery: async (query: AuditQueryRequest) => {
        submitted.push(query);
        return { status: 202, body: { id: 'tx-1', state: 'Queued' as const } };
      },
      getAuditQuery: async () => {
        const state = states[Math.min(polls, states.length - 1)] as AuditQueryState;
        polls += 1;
        return { status: 200, body: { id: 'tx-1', state } };
      },
      getAuditQueryResults: async (_id: string, page: AuditQueryResultsQuery = {}) => {
        pages.push(page);
        const offset = page.cursor ? Number(page.cursor) : 0;
        const size = page.pageSize ?? 100;
        const next = offset + size;
        return { status: 200, body: { id: 'tx-1', entities: entries.slice(offset, next), ...(next < entries.length ? { cursor: String(next) } : {}) } };
      },
    },
  };
}

const query = { guestId: 'g-1', from: new Date('2025-03-01T00:00:00Z'), to: new Date('2025-03-02T00:00:00Z'), sleep: async () => undefined };

describe('queryGuestAudit', () => {
  it('submits a query filtered on the guest, polls until it succeeds and reads every page', async () => {
    // Prepare
    const api = auditApi(['Running', 'Running', 'Succeeded'], [0, 1, 2, 3, 4].map((n) => entry(n)));

    // Act
    const entries = await queryGuestAudit(api.client, { ...query, pageSize: 2 });

    // Assess
    expect(api.submitted).toEqual([
      {
        interval: '2025-03-01T00:00:00.000Z/2025-03-02T00:00:00.000Z',
        serviceName: 'Conversations',
        filters: [{ property: 'EntityId', value: 'g-1' }],
        sort: [{ name: 'Timestamp', sortOrder: 'ascending' }],
      },
    ]);
    expect(api.polls()).toBe(3);
    expect(api.pages).toEqual([{ pageSize: 2 }, { pageSize: 2, cursor: '2' }, { pageSize: 2, cursor: '4' }]);
    expect(entries.map((e) => e.id)).toEqual(['a-0', 'a-1', 'a-2', 'a-3', 'a-4']);
  });

  it.each(['Failed', 'Cancelled'] as const)('fails when the query ends %s', async (state) => {
    // Act
    const failure = await queryGuestAudit(auditApi([state], []).client, query).catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(DependencyError);
    expect((failure as Error).message).toContain(state);
  });

  it('gives up with 504 when the query never finishes in time', async () => {
    // Prepare: a clock that moves with each wait.
    let now = 0;
    const api = auditApi(['Running'], []);

    // Act
    const failure = await queryGuestAudit(api.client, {
      ...query,
      timeoutMs: 10_000,
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
    }).catch((e: unknown) => e);

    // Assess
    expect(failure).toMatchObject({ status: 504 });
    expect(api.polls()).toBeLessThan(10);
  });

  it.each([
    ['an empty guest id', { guestId: ' ' }],
    ['an interval that ends before it starts', { from: new Date('2025-03-02T00:00:00Z') }],
  ])('refuses %s without asking Genesys', async (_case, change) => {
    // Prepare
    const api = auditApi(['Succeeded'], []);

    // Act
    const failure = await queryGuestAudit(api.client, { ...query, ...change }).catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(ValidationError);
    expect(api.submitted).toHaveLength(0);
  });
});

describe('formatAuditTable', () => {
  it('prints one row per entry with property names, never values', () => {
    // Act
    const text = formatAuditTable([entry(0), entry(1, { user: { id: 'agent-7' }, client: undefined })]);

    // Assess
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^date\s+action\s+entity\s+actor\s+changed properties$/);
    expect(lines[2]).toMatch(/^2025-03-01T10:00:00.000Z\s+Create\s+Guest g-1\s+client crm-connector\s+attributes$/);
    expect(lines[3]).toContain('user agent-7');
    expect(text).not.toContain('gold');
  });

  it('prints the header alone when there is nothing', () => {
    expect(formatAuditTable([]).split('\n')).toHaveLength(2);
  });
});
