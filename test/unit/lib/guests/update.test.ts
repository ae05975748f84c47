/**
 * Guest updates against the sandbox Genesys (version 2) and the state table (in memory):
 * the caller's changed fields laid over the latest contact, other writers' fields kept,
 * suite writers serialised by the per-guest lease, 409 when the lease cannot be held.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '#lib/errors';
import { changesFromBody, createGuestFields, type GuestChanges } from '#lib/guests/changes.ts';
import { updateGuestWithMerge } from '#lib/guests/update.ts';
import { WriteLeases, type StateItem } from '#lib/state';
import { MemoryStateTable } from '#lib/state/table.ts';
import type { GenesysSandboxV2 } from '#local/sandbox/genesys/index.ts';
import { createGuestContact, resetGuestSchemaCacheForTests, readGuest } from '#lib/guests/store.ts';
import { SETTINGS, clientFor, control, requestsFor, startGuestSandbox } from './support.ts';

const SALT = 'unit-salt';
let sandbox: GenesysSandboxV2;
let table: MemoryStateTable;

beforeAll(async () => {
  sandbox = await startGuestSandbox();
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(() => {
  sandbox.reset();
  resetGuestSchemaCacheForTests();
  table = new MemoryStateTable();
});

const changes = (body: Record<string, unknown>): GuestChanges => changesFromBody(body, SALT).changes;

/** A guest as a caller created and read it. */
async function existingGuest(): Promise<{ id: string; etag: string }> {
  const created = await createGuestContact(
    clientFor(sandbox),
    SETTINGS,
    createGuestFields({ marketing: false, dataProcessing: true }, changes({ email: 'jane@example.com', attributes: { tier: 'gold' }, channelContext: { campaignId: 'SPRING' } })),
  );
  return { id: created.guest.id, etag: created.etag };
}

const leaseItems = (): StateItem[] => [...table.items.values()].filter((item) => item.pk.startsWith('lease#guest#'));

describe('updateGuestWithMerge', () => {
  it('applies the change at the version the caller read: conflictsResolved 0, a new ETag, the lease given back', async () => {
    // Prepare
    const guest = await existingGuest();

    // Act
    const result = await updateGuestWithMerge(clientFor(sandbox), SETTINGS, guest.id, guest.etag, changes({ consent: { marketing: true } }), {
      leases: new WriteLeases(table),
    });

    // Assess
    expect(result).toMatchObject({ conflictsResolved: 0, attempts: 1, guest: { consent: { marketing: true, dataProcessing: true }, attributes: { tier: 'gold' } } });
    expect(result.etag).not.toBe(guest.etag);
    expect((await readGuest(clientFor(sandbox), SETTINGS, guest.id)).etag).toBe(result.etag);
    expect(leaseItems()).toEqual([]);
  });

  it('merges over a concurrent writer: the caller\'s fields win, the other writer\'s fields are kept, conflictsResolved 1', async () => {
    // Prepare: the caller read the guest; then an agent changed it in Genesys.
    const guest = await existingGuest();
    await control(sandbox, 'POST', `/__sandbox/externalcontacts/contacts/${guest.id}/touch`, {
      customFields: { campaignId_identifier: 'AGENT_SET', dataProcessingConsent_checkbox: false },
    });

    // Act
    const result = await updateGuestWithMerge(clientFor(sandbox), SETTINGS, guest.id, guest.etag, changes({ consent: { marketing: true }, attributes: { visits: 2 } }), {
      leases: new WriteLeases(table),
    });

    // Assess
    expect(result.conflictsResolved).toBe(1);
    const stored = (await readGuest(clientFor(sandbox), SETTINGS, guest.id)).guest;
    expect(stored).toMatchObject({
      consent: { marketing: true, dataProcessing: false },
      channelContext: { campaignId: 'AGENT_SET' },
      attributes: { tier: 'gold', visits: 2 },
      identityAttributes: { emailHash: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
  });

  it('keeps what another system put on the contact outside the guest fields (a PUT replaces the whole contact)', async () => {
    // Prepare
    const guest = await existingGuest();
    await control(sandbox, 'POST', `/__sandbox/externalcontacts/contacts/${guest.id}/touch`, { title: 'kept by the suite' });

    // Act
    await updateGuestWithMerge(clientFor(sandbox), SETTINGS, guest.id, guest.etag, changes({ attributes: { tier: 'platinum' } }), { leases: new WriteLeases(table) });

    // Assess
    expect(sandbox.state().externalContacts[guest.id]).toMatchObject({ title: 'kept by the suite' });
  });

  it('serialises two suite writers with the same If-Match: both changes land, one of them reports the merge', async () => {
    // Prepare
    const guest = await existingGuest();
    const leases = new WriteLeases(table);

    // Act
    const results = await Promise.all([
      updateGuestWithMerge(clientFor(sandbox), SETTINGS, guest.id, guest.etag, changes({ attributes: { first: 'a' } }), { leases }),
      updateGuestWithMerge(clientFor(sandbox), SETTINGS, guest.id, guest.etag, changes({ attributes: { second: 'b' } }), { leases }),
    ]);

    // Assess
    expect(results.map((result) => result.conflictsResolved).sort()).toEqual([0, 1]);
    expect((await readGuest(clientFor(sandbox), SETTINGS, guest.id)).guest.attributes).toEqual({ tier: 'gold', first: 'a', second: 'b' });
  });

  it('answers 409 without writing when another request holds the guest\'s lease for longer than the wait', async () => {
    // Prepare
    const guest = await existingGuest();
    await table.put({ pk: `lease#guest#${guest.id}`, owner: 'another-request', leaseUntilMs: Date.now() + 60_000 });

    // Act
    const update = updateGuestWithMerge(clientFor(sandbox), SETTINGS, guest.id, guest.etag, changes({ consent: { marketing: true } }), {
      leases: new WriteLeases(table),
      leaseWaitMs: 50,
    });

    // Assess
    await expect(update).rejects.toBeInstanceOf(ConflictError);
    await expect(update).rejects.toMatchObject({ status: 409, extensions: { guestId: guest.id, conflictingFields: ['consent.marketing'] } });
    expect(requestsFor(sandbox, 'putExternalcontactsContact')).toBe(0);
  });

  it('takes over a lease whose holder ran out of time (a writer that died does not block the guest)', async () => {
    // Prepare
    const guest = await existingGuest();
    await table.put({ pk: `lease#guest#${guest.id}`, owner: 'a-dead-request', leaseUntilMs: Date.now() - 1 });

    // Act
    const result = await updateGuestWithMerge(clientFor(sandbox), SETTINGS, guest.id, guest.etag, changes({ consent: { marketing: true } }), {
      leases: new WriteLeases(table),
      leaseWaitMs: 0,
    });

    // Assess
    expect(result.guest.consent.marketing).toBe(true);
  });

  it('gives up with 409 after 3 attempts when its lease is taken over before every write, and writes nothing', async () => {
    // Prepare: every read of the contact is slow enough for another writer to take the lease over.
    const guest = await existingGuest();
    const thief: typeof fetch = async (input, init) => {
      const answer = await fetch(input, init);
      if ((init?.method ?? 'GET') === 'GET' && String(input).includes('/externalcontacts/contacts/')) {
        await table.put({ pk: `lease#guest#${guest.id}`, owner: 'took-over', leaseUntilMs: Date.now() + 1 });
      }
      return answer;
    };

    // Act
    const update = updateGuestWithMerge(clientFor(sandbox, { fetch: thief }), SETTINGS, guest.id, guest.etag, changes({ attributes: { tier: 'silver' } }), {
      leases: new WriteLeases(table),
      leaseWaitMs: 1_000,
    });

    // Assess
    await expect(update).rejects.toMatchObject({ status: 409, extensions: { attempts: 3 } });
    expect(requestsFor(sandbox, 'getExternalcontactsContact')).toBe(3);
    expect(requestsFor(sandbox, 'putExternalcontactsContact')).toBe(0);
    expect((await readGuest(clientFor(sandbox), SETTINGS, guest.id)).guest.attributes).toEqual({ tier: 'gold' });
  });

  it('accepts If-Match * as any version (no conflict reported)', async () => {
    // Prepare
    const guest = await existingGuest();
    await control(sandbox, 'POST', `/__sandbox/externalcontacts/contacts/${guest.id}/touch`, { customFields: { campaignId_identifier: 'MOVED' } });

    // Act
    const result = await updateGuestWithMerge(clientFor(sandbox), SETTINGS, guest.id, '*', changes({ consent: { marketing: true } }), { leases: new WriteLeases(table) });

    // Assess
    expect(result.conflictsResolved).toBe(0);
    expect(result.guest.channelContext).toEqual({ campaignId: 'MOVED' });
  });
});
