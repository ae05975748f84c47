/**
 * The webhook flow with its dependencies replaced by recorders: what is queued for each
 * delivery, and what is audited and measured.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EnqueueError, type CrmSyncJob } from '#lib/jobs';
import { acknowledgeWebhook, signPayload, webhookAudit } from '#lib/webhook';
import { verifySignature } from '#lib/webhook/signature.ts';
import type { WebhookDependencies, WebhookRequest } from '#lib/webhook/service.ts';
import { captureOutput, type CapturedOutput } from '#test/support/lambda.ts';
import { audited } from '#test/unit/lib/lambda/support.ts';

const SECRETS = ['current-secret', 'previous-secret'];
const SESSION_ID = '3f6c1d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f';
const NOW = new Date('2025-01-15T10:30:00.000Z');

function recorder(enqueueError?: Error): { deps: WebhookDependencies; enqueued: CrmSyncJob[][] } {
  const enqueued: CrmSyncJob[][] = [];
  return {
    enqueued,
    deps: {
      secrets: { verify: async (header, body) => verifySignature(header, body, SECRETS) },
      enqueue: async (jobs) => {
        enqueued.push(jobs);
        if (enqueueError) throw enqueueError;
      },
      now: () => NOW,
    },
  };
}

const delivery = (body: unknown, secret: string | null = 'current-secret'): WebhookRequest => {
  const rawBody = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  return { rawBody, headers: secret === null ? {} : { 'x-hub-signature-256': signPayload(secret, rawBody) } };
};
/** One delivery as the route runs it: under the audit middleware. */
const deliver = (req: WebhookRequest, deps: WebhookDependencies) =>
  audited(webhookAudit, (facts) => acknowledgeWebhook(req, deps, facts), { status: 202, requestBytes: req.rawBody.length });
const update = (overrides: Record<string, unknown> = {}) => ({
  eventId: 'evt-1',
  event: 'guest.session.attributes.updated',
  sessionId: SESSION_ID,
  attributes: { tier: 'gold' },
  timestamp: '2025-01-15T10:29:58.000Z',
  ...overrides,
});
const emitted = (output: CapturedOutput, name: string) => output.entries().filter((entry) => name in entry);

let output: CapturedOutput;
beforeEach(() => {
  output = captureOutput();
});
afterEach(() => output.restore());

describe('acknowledgeWebhook', () => {
  it('queues one job for an attribute update and acknowledges with its id', async () => {
    // Prepare
    const rec = recorder();

    // Act
    const ack = await deliver(delivery(update()), rec.deps);

    // Assess
    expect(rec.enqueued).toHaveLength(1);
    expect(ack).toEqual({ acknowledged: true, jobId: rec.enqueued[0]?.[0]?.jobId });
    expect(output.logged('audit')).toEqual([
      expect.objectContaining({ type: 'webhook_accepted', status: 202, event: 'guest.session.attributes.updated', eventId: 'evt-1', sessionId: SESSION_ID, signatureVersion: 'current', attributeCount: 1, jobId: ack.acknowledged && 'jobId' in ack ? ack.jobId : '' }),
    ]);
  });

  it('acknowledges a delivery signed with the previous secret version', async () => {
    // Prepare
    const rec = recorder();

    // Act
    const ack = await deliver(delivery(update(), 'previous-secret'), rec.deps);

    // Assess
    expect(ack).toMatchObject({ acknowledged: true, jobId: expect.any(String) });
    expect(output.logged('audit')[0]).toMatchObject({ signatureVersion: 'previous' });
  });

  it('gives a redelivered event the same job id', async () => {
    // Prepare
    const rec = recorder();

    // Act
    const first = await deliver(delivery(update()), rec.deps);
    const again = await deliver(delivery(update()), rec.deps);

    // Assess
    expect(again).toEqual(first);
    expect(rec.enqueued.map((jobs) => jobs[0]?.jobId)).toEqual([(first as { jobId: string }).jobId, (first as { jobId: string }).jobId]);
  });

  it('acknowledges other events as ignored and queues nothing', async () => {
    // Prepare
    const rec = recorder();

    // Act
    const ack = await deliver(delivery({ event: 'conversation.ended', timestamp: '2025-01-15T10:29:58Z' }), rec.deps);

    // Assess
    expect(ack).toEqual({ acknowledged: true, ignored: true });
    expect(rec.enqueued).toEqual([]);
    expect(output.logged('audit')).toEqual([expect.objectContaining({ type: 'webhook_ignored', status: 202, event: 'conversation.ended' })]);
  });

  describe.each([
    ['no signature', delivery(update(), null), 401, 'signature'],
    ['a wrong signature', delivery(update(), 'attacker-secret'), 401, 'signature'],
    ['a body changed after signing', { ...delivery(update()), rawBody: Buffer.from(JSON.stringify(update({ attributes: { tier: 'platinum' } }))) }, 401, 'signature'],
    ['malformed JSON (validly signed)', delivery('{"event": '), 400, 'malformed'],
    ['an unknown shape', delivery({ event: 'guest.session.attributes.updated', timestamp: '2025-01-15T10:29:58Z' }), 400, 'malformed'],
    ['a stale timestamp', delivery(update({ timestamp: '2025-01-15T10:20:00.000Z' })), 400, 'stale'],
    ['a future timestamp', delivery(update({ timestamp: '2025-01-15T10:40:00.000Z' })), 400, 'stale'],
  ])('refuses %s', (_case, req, status, reason) => {
    it(`(${status}), queues nothing, audits and counts it as ${reason}`, async () => {
      // Prepare
      const rec = recorder();

      // Act
      const outcome = await deliver(req, rec.deps).catch((error: unknown) => error);

      // Assess
      expect(outcome).toMatchObject({ status });
      expect(rec.enqueued).toEqual([]);
      expect(output.logged('audit')).toEqual([expect.objectContaining({ type: 'webhook_rejected', status, reason })]);
      expect(emitted(output, 'WebhookRejected').map((entry) => entry['reason'])).toEqual([reason]);
    });
  });

  it('answers 502 when the job could not be queued, so Genesys delivers again', async () => {
    // Prepare
    const rec = recorder(new EnqueueError(['webhook-x']));

    // Act
    const outcome = await deliver(delivery(update()), rec.deps).catch((error: unknown) => error);

    // Assess
    expect(outcome).toMatchObject({ status: 502 });
    expect(output.logged('audit')).toEqual([expect.objectContaining({ type: 'webhook_rejected', status: 502, reason: 'enqueue' })]);
  });

  it('never logs attribute values', async () => {
    // Prepare
    const rec = recorder();

    // Act
    await deliver(delivery(update({ attributes: { nickname: 'Quetzalcoatl' } })), rec.deps);

    // Assess
    expect(output.text()).not.toContain('Quetzalcoatl');
  });
});
