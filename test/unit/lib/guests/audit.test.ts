/**
 * The guest audit as the audit middleware writes it: an entry for every guest written,
 * even when the answer is then a failure, and none when nothing was written.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EnqueueError } from '#lib/jobs';
import { guestAudit } from '#lib/guests';
import { GuestSyncNotQueuedError, GuestUpdateConflictError } from '#lib/guests/errors.ts';
import { captureOutput, type CapturedOutput } from '#test/support/lambda.ts';
import { audited } from '#test/unit/lib/lambda/support.ts';

const GUEST_ID = '0f8fad5b-d9cb-469f-a165-70867728950e';

let output: CapturedOutput;
beforeEach(() => {
  output = captureOutput();
});
afterEach(() => output.restore());

const entries = () => output.logged('Guest audit').map((line) => line['audit']);

describe('guestAudit', () => {
  it('keeps the GUEST_CREATED entry when the guest was written but its sync job could not be queued (502)', async () => {
    // Act
    const outcome = await audited(
      guestAudit,
      async (facts) => {
        Object.assign(facts, { eventType: 'GUEST_CREATED', guestId: GUEST_ID, changedFields: ['attributes.tier'], resolutionMethod: 'unknown', maskedAttributes: [] });
        throw new GuestSyncNotQueuedError(GUEST_ID, 'guest-1', new EnqueueError(['guest-1']));
      },
      { claims: { client_id: 'crm-connector', sub: 'ignored' } },
    ).catch((error: unknown) => error);

    // Assess
    expect(outcome).toMatchObject({ status: 502, extensions: { guestWritten: true } });
    expect(entries()).toEqual([
      {
        eventType: 'GUEST_CREATED',
        guestId: GUEST_ID,
        actor: 'crm-connector',
        changedFields: ['attributes.tier'],
        resolutionMethod: 'unknown',
        requestId: 'audited-request',
        timestamp: expect.any(String),
      },
    ]);
  });

  it('names the masked attributes and, without a client id or subject, the actor "unknown"', async () => {
    // Act
    await audited(guestAudit, async (facts) => {
      Object.assign(facts, { eventType: 'GUEST_UPDATED', guestId: GUEST_ID, changedFields: ['attributes.note'], conflictsResolved: 0, maskedAttributes: ['note'] });
    });

    // Assess
    expect(entries()).toEqual([expect.objectContaining({ actor: 'unknown', conflictsResolved: 0, maskedAttributes: ['note'] })]);
  });

  it('writes no entry when no guest was written', async () => {
    // Act
    await audited(guestAudit, async () => {
      throw new GuestUpdateConflictError(GUEST_ID, 'busy', 1, ['attributes.tier']);
    }).catch(() => undefined);

    // Assess
    expect(entries()).toEqual([]);
  });
});
