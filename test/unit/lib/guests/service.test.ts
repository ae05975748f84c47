import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DependencyError } from '#lib/errors';
import type { Guest } from '#lib/genesys';
import { createGuest, updateGuest, type GuestDependencies } from '#lib/guests';
import type { CrmSyncJob } from '#lib/jobs';
import { captureOutput, type CapturedOutput } from '../../../support/lambda.ts';

const GUEST_ID = '3f2b6c1e-9a7d-4e1b-8c2a-1d2e3f4a5b6c';
const stored = (fields: Partial<Guest>): Guest => ({
  id: GUEST_ID,
  createdDate: '2025-03-01T10:00:00.000Z',
  modifiedDate: '2025-03-01T10:00:00.000Z',
  ...fields,
});

function deps(overrides: Partial<GuestDependencies> = {}): GuestDependencies & { sent: CrmSyncJob[]; requests: unknown[] } {
  const sent: CrmSyncJob[] = [];
  const requests: unknown[] = [];
  return {
    sent,
    requests,
    genesys: {
      createGuest: async (request) => {
        requests.push(request);
        return { status: 201, body: stored(request as Partial<Guest>), etag: '"1"' };
      },
      getGuest: async () => ({ status: 200, body: stored({ consent: { marketing: false, dataProcessing: true } }), etag: '"1"' }),
      updateGuest: async (_id, patch) => {
        requests.push(patch);
        return { status: 200, body: stored(patch as Partial<Guest>), etag: '"2"' };
      },
    },
    salt: 'unit-salt',
    queueUrl: 'http://127.0.0.1:1/000000000000/crm-sync',
    actor: 'crm-connector',
    requestId: 'req-1',
    enqueue: async (jobs) => {
      sent.push(...jobs);
      return { messageIds: new Map(jobs.map((job) => [job.jobId, `m-${job.jobId}`])), pending: [] };
    },
    ...overrides,
  };
}

let output: CapturedOutput;
beforeEach(() => {
  output = captureOutput();
});
afterEach(() => output.restore());

describe('createGuest', () => {
  it('sends only hashes to Genesys, audits GUEST_CREATED with field names, and enqueues one guest job', async () => {
    // Prepare
    const d = deps();

    // Act
    const result = await createGuest(
      { consent: { marketing: true, dataProcessing: true }, email: 'jane@example.com', attributes: { tier: 'gold' } },
      d,
    );

    // Assess
    expect(JSON.stringify(d.requests)).not.toContain('jane@example.com');
    expect(result).toMatchObject({ etag: '"1"', syncJobId: d.sent[0]?.jobId });
    expect(d.sent).toHaveLength(1);
    expect(d.sent[0]).toMatchObject({ source: 'guest', record: { externalId: GUEST_ID, emailHash: expect.stringMatching(/^[0-9a-f]{64}$/) } });
    const [audit] = output.logged('Guest audit');
    expect(audit?.['audit']).toMatchObject({
      eventType: 'GUEST_CREATED',
      guestId: GUEST_ID,
      actor: 'crm-connector',
      changedFields: ['attributes.tier', 'consent.dataProcessing', 'consent.marketing', 'identityAttributes.emailHash'],
      resolutionMethod: 'email',
      requestId: 'req-1',
    });
    expect(JSON.stringify(audit)).not.toMatch(/gold|[0-9a-f]{64}/);
  });

  it('answers 502 naming the created guest when the job cannot be queued', async () => {
    // Prepare
    const d = deps({ enqueue: async () => Promise.reject(new Error('SQS down')) });

    // Act
    const failure = await createGuest({ consent: { marketing: false, dataProcessing: true } }, d).catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(DependencyError);
    expect((failure as DependencyError).status).toBe(502);
    expect((failure as DependencyError).extensions).toMatchObject({ guestId: GUEST_ID, guestWritten: true });
  });
});

describe('updateGuest', () => {
  it('audits GUEST_UPDATED with the changed fields and the conflicts resolved, and enqueues the new version', async () => {
    // Prepare
    const d = deps();

    // Act
    const result = await updateGuest(GUEST_ID, '"1"', { consent: { marketing: true } }, d);

    // Assess
    expect(result).toMatchObject({ conflictsResolved: 0, etag: '"2"' });
    expect(d.requests).toEqual([{ consent: { marketing: true, dataProcessing: true } }]);
    expect(output.logged('Guest audit')[0]?.['audit']).toMatchObject({ eventType: 'GUEST_UPDATED', changedFields: ['consent.marketing'], conflictsResolved: 0 });
    expect(d.sent).toHaveLength(1);
  });

  it('enqueues nothing when Genesys refuses the update', async () => {
    // Prepare
    const d = deps();
    d.genesys.getGuest = async () => Promise.reject(new DependencyError('down'));

    // Act
    await updateGuest(GUEST_ID, '"1"', { consent: { marketing: true } }, d).catch(() => undefined);

    // Assess
    expect(d.sent).toHaveLength(0);
    expect(output.logged('Guest audit')).toHaveLength(0);
  });
});
