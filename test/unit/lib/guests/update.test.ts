import { describe, expect, it } from 'vitest';
import { ConflictError } from '#lib/errors';
import { GenesysError, type Guest, type GuestPatch } from '#lib/genesys';
import { ifMatchSatisfiedBy, updateGuestWithMerge, type GuestStore } from '#lib/guests';

const GUEST_ID = '3f2b6c1e-9a7d-4e1b-8c2a-1d2e3f4a5b6c';

/**
 * An in-memory guest store with Genesys' rules: ETag `"<version>"`, PATCH only at the
 * current version (else 412), groups replaced whole except `attributes` (merged by key).
 * `beforePatch` lets a test play another writer between our read and our write.
 */
function memoryStore(initial: Omit<Guest, 'id' | 'createdDate' | 'modifiedDate'>) {
  let version = 1;
  let guest: Guest = { id: GUEST_ID, createdDate: '2025-01-01T00:00:00.000Z', modifiedDate: '2025-01-01T00:00:00.000Z', ...structuredClone(initial) };
  const patches: Array<{ ifMatch: string; patch: GuestPatch }> = [];
  let reads = 0;
  const hooks = { beforePatch: (_n: number): void => undefined, failPatch: (_n: number): number | undefined => undefined };
  const write = (patch: GuestPatch): void => {
    const next = structuredClone(guest) as Guest & Record<string, unknown>;
    for (const [key, value] of Object.entries(patch)) {
      next[key] = key === 'attributes' ? { ...guest.attributes, ...(value as object) } : structuredClone(value);
    }
    version += 1;
    guest = next;
  };
  const store: GuestStore = {
    getGuest: async () => {
      reads += 1;
      return { status: 200, body: structuredClone(guest), etag: `"${version}"` };
    },
    updateGuest: async (_id, patch, ifMatch) => {
      patches.push({ ifMatch, patch: structuredClone(patch) });
      hooks.beforePatch(patches.length);
      const injected = hooks.failPatch(patches.length);
      if (injected !== undefined || ifMatch !== `"${version}"`) {
        throw new GenesysError({ operation: 'updateGuest', kind: 'http', upstreamStatus: injected ?? 412, retryable: false, attempts: 1 });
      }
      write(patch);
      return { status: 200, body: structuredClone(guest), etag: `"${version}"` };
    },
  };
  return {
    store,
    hooks,
    patches,
    reads: () => reads,
    current: () => guest,
    /** Another writer changes the guest (its version moves). */
    otherWriter: (patch: GuestPatch) => write(patch),
  };
}

const initial = {
  consent: { marketing: false, dataProcessing: true },
  attributes: { tier: 'gold', agentNote: 'original' },
};

describe('updateGuestWithMerge', () => {
  it('writes at the caller\'s version when nobody else wrote', async () => {
    // Prepare
    const genesys = memoryStore(initial);

    // Act
    const result = await updateGuestWithMerge(genesys.store, GUEST_ID, '"1"', { consent: { marketing: true } });

    // Assess
    expect(result).toMatchObject({ conflictsResolved: 0, attempts: 1, etag: '"2"' });
    expect(genesys.patches).toEqual([{ ifMatch: '"1"', patch: { consent: { marketing: true, dataProcessing: true } } }]);
    expect(genesys.current().consent).toEqual({ marketing: true, dataProcessing: true });
  });

  it('merges onto a newer version when the caller\'s ETag is stale: both changes survive', async () => {
    // Prepare: another writer changed agentNote after the caller read version 1.
    const genesys = memoryStore(initial);
    genesys.otherWriter({ attributes: { agentNote: 'changed by agent' } });

    // Act
    const result = await updateGuestWithMerge(genesys.store, GUEST_ID, '"1"', { attributes: { tier: 'platinum' } });

    // Assess
    expect(result).toMatchObject({ conflictsResolved: 1, attempts: 1 });
    expect(genesys.current().attributes).toEqual({ tier: 'platinum', agentNote: 'changed by agent' });
    expect(genesys.patches[0]?.ifMatch).toBe('"2"');
  });

  it('on a 412 (a write between our read and ours) re-reads, re-applies and retries: both changes survive', async () => {
    // Prepare
    const genesys = memoryStore(initial);
    genesys.hooks.beforePatch = (n) => {
      if (n === 1) genesys.otherWriter({ consent: { marketing: false, dataProcessing: false } });
    };

    // Act
    const result = await updateGuestWithMerge(genesys.store, GUEST_ID, '"1"', { consent: { marketing: true } });

    // Assess: the other writer's dataProcessing=false is kept; our marketing=true is applied.
    expect(result).toMatchObject({ conflictsResolved: 1, attempts: 2 });
    expect(genesys.current().consent).toEqual({ marketing: true, dataProcessing: false });
    expect(genesys.reads()).toBe(2);
  });

  it('gives up after 3 attempts with a 409 naming the fields that were not applied', async () => {
    // Prepare: someone writes before each of our PATCHes.
    const genesys = memoryStore(initial);
    genesys.hooks.beforePatch = () => genesys.otherWriter({ attributes: { agentNote: `note ${Math.random()}` } });

    // Act
    const failure = await updateGuestWithMerge(genesys.store, GUEST_ID, '"1"', { attributes: { tier: 'silver' }, consent: { marketing: true } }).catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(ConflictError);
    const conflict = failure as ConflictError;
    expect(conflict.status).toBe(409);
    expect(conflict.message).toContain('attributes.tier, consent.marketing');
    expect(conflict.extensions).toMatchObject({ guestId: GUEST_ID, attempts: 3, conflictingFields: ['attributes.tier', 'consent.marketing'] });
    expect(genesys.patches).toHaveLength(3);
    expect(genesys.current().attributes?.['tier']).toBe('gold');
  });

  it.each([1, 2, 5])('respects maxAttempts = %i', async (maxAttempts) => {
    // Prepare
    const genesys = memoryStore(initial);
    genesys.hooks.failPatch = () => 412;

    // Act
    const failure = await updateGuestWithMerge(genesys.store, GUEST_ID, '"1"', { attributes: { a: 1 } }, { maxAttempts }).catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(ConflictError);
    expect(genesys.patches).toHaveLength(maxAttempts);
  });

  it.each([
    [404, 404],
    [429, 503],
    [500, 502],
  ])('passes a Genesys %i through (answered as %i), without retrying it as a conflict', async (upstream, status) => {
    // Prepare
    const genesys = memoryStore(initial);
    genesys.hooks.failPatch = () => upstream;

    // Act
    const failure = await updateGuestWithMerge(genesys.store, GUEST_ID, '"1"', { attributes: { a: 1 } }).catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(GenesysError);
    expect((failure as GenesysError).status).toBe(status);
    expect(genesys.patches).toHaveLength(1);
  });
});

describe('ifMatchSatisfiedBy', () => {
  it.each([
    ['"3"', '"3"', true],
    ['W/"3"', '"3"', true],
    ['3', '"3"', true],
    ['"2", "3"', '"3"', true],
    ['*', '"3"', true],
    ['"2"', '"3"', false],
    ['"33"', '"3"', false],
  ])('If-Match %s against %s: %s', (ifMatch, etag, expected) => {
    expect(ifMatchSatisfiedBy(ifMatch, etag)).toBe(expected);
  });
});
