/**
 * The guest audit query against the sandbox Genesys (version 2): the service is checked
 * against the organisation's service mapping before any query is submitted ("Conversations"
 * is not an audit service), then the query is submitted, polled and paged.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DependencyError, ValidationError } from '#lib/errors';
import type { AuditLogMessage } from '#lib/genesys';
import { GUEST_AUDIT_SERVICE, formatAuditTable, queryGuestAudit } from '#lib/guests';
import { resolveAuditService } from '#lib/guests/audit-query.ts';
import type { GenesysSandboxV2 } from '#local/sandbox/genesys/index.ts';
import { clientFor, control, requestsFor, startGuestSandbox } from './support.ts';

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

const GUEST = '0b5e7f3a-5c1d-4e2f-9a3b-6c7d8e9f0a77';
const query = { guestId: GUEST, from: new Date('2025-03-01T00:00:00Z'), to: new Date('2025-03-02T00:00:00Z'), sleep: async () => undefined };

let sandbox: GenesysSandboxV2;
beforeAll(async () => {
  sandbox = await startGuestSandbox();
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(() => {
  sandbox.reset();
});

/** Audit entries about `entityId`, recorded under `serviceName`. */
async function recorded(serviceName: string, entityId: string, count: number): Promise<void> {
  await control(sandbox, 'POST', '/__sandbox/audits', {
    entries: Array.from({ length: count }, (_, n) => ({
      serviceName,
      entityType: 'Integration',
      action: n === 0 ? 'Create' : 'Update',
      entity: { id: entityId },
      eventDate: `2025-03-01T10:0${n}:00.000Z`,
      propertyChanges: [{ property: 'config', oldValues: [], newValues: ['x'] }],
    })),
  });
}

describe('resolveAuditService', () => {
  it('refuses "Conversations" (not an audit service), listing the services the organisation offers', async () => {
    // Act
    const failure = await resolveAuditService(clientFor(sandbox), 'Conversations').catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(ValidationError);
    expect((failure as Error).message).toMatch(/does not offer "Conversations".*Integrations/);
  });

  it('answers the spelling the service mapping uses', async () => {
    expect(await resolveAuditService(clientFor(sandbox), 'integrations')).toBe('Integrations');
  });
});

describe('queryGuestAudit', () => {
  it('asks for ExternalContacts by default, where Genesys records changes to external contacts', () => {
    expect(GUEST_AUDIT_SERVICE).toBe('ExternalContacts');
  });

  it('submits nothing when the organisation does not offer the service (the sandbox has no ExternalContacts audits)', async () => {
    // Act
    const failure = await queryGuestAudit(clientFor(sandbox), query).catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(ValidationError);
    expect(requestsFor(sandbox, 'postAuditsQuery')).toBe(0);
  });

  it('submits a query filtered on the guest, polls until it succeeds and reads every page', async () => {
    // Prepare
    await recorded('Integrations', GUEST, 5);
    await recorded('Integrations', 'someone-else', 2);
    await control(sandbox, 'POST', '/__sandbox/config', { auditPendingPolls: 2 });

    // Act
    const entries = await queryGuestAudit(clientFor(sandbox), { ...query, serviceName: 'Integrations', pageSize: 2 });

    // Assess
    expect(entries.map((e) => e.entity?.id)).toEqual([GUEST, GUEST, GUEST, GUEST, GUEST]);
    expect(entries.map((e) => e.action)).toEqual(['Create', 'Update', 'Update', 'Update', 'Update']);
    expect(sandbox.state().auditQueries).toEqual([expect.objectContaining({ serviceName: 'Integrations', state: 'Succeeded', polls: 2, resultCount: 5 })]);
    expect(requestsFor(sandbox, 'getAuditsQueryTransactionIdResults')).toBe(3);
  });

  it('gives up with 504 when the query never finishes in time', async () => {
    // Prepare: a clock that moves with each wait.
    await control(sandbox, 'POST', '/__sandbox/config', { auditPendingPolls: 1_000 });
    let now = 0;

    // Act
    const failure = await queryGuestAudit(clientFor(sandbox), {
      ...query,
      serviceName: 'Integrations',
      timeoutMs: 10_000,
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
    }).catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(DependencyError);
    expect(failure).toMatchObject({ status: 504 });
    expect(requestsFor(sandbox, 'getAuditsQueryTransactionId')).toBeLessThan(10);
  });

  it.each([
    ['an empty guest id', { guestId: ' ' }],
    ['an interval that ends before it starts', { from: new Date('2025-03-02T00:00:00Z') }],
  ])('refuses %s without asking Genesys', async (_case, change) => {
    // Act
    const failure = await queryGuestAudit(clientFor(sandbox), { ...query, ...change }).catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(ValidationError);
    expect(sandbox.state().requests.filter((r) => r.operation !== 'loginClientCredentialsGrant')).toEqual([]);
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
