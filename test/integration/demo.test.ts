/**
 * `npm run demo`'s core (scripts/demo/run.ts) against the shared test stack: on a healthy
 * stack it reports success with the CRM records, the refused record in the DLQ and a fresh
 * report; when Genesys misbehaves it reports failure and the CLI's exit code is non-zero.
 * The widget call is left out here: a successful one makes the warm widget function trust
 * the deployment for 5 minutes, which would break widget-config.test.ts's refusal cases
 * when this file runs first (the route itself is covered there).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_CUSTOMER, DEMO_REJECTION_CODE, demoExitCode, runDemo } from '#scripts/demo/run.ts';
import { addFaults, machineToken, purge, resetSandboxes, setWorkerPaused, stack, until } from '#test/support/stack.ts';

let reportDir: string;

/**
 * The warm pre-chat function may still be refusing to enrich the sample's customer when
 * this file starts: prechat.test.ts ends with its CRM circuit open for 30 s, and a lookup
 * of the sample's email that found nothing is cached for 60 s. Wait (bounded) until the
 * sample request is enriched again, so the demo is judged on a function that can enrich.
 */
async function preChatCanEnrich(): Promise<void> {
  const sample = JSON.parse(await readFile(join('events', 'prechat-enrich.json'), 'utf8')) as { body: string };
  const token = await machineToken('guest-sync/write');
  await until(
    async () => {
      await fetch(`${stack().crmUrl}/__sandbox/customers`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ customers: [DEMO_CUSTOMER] }),
      });
      // A Data Action always names a live conversation: start one as a guest's first message would.
      const started = (await (
        await fetch(`${stack().genesysUrl}/__sandbox/messenger/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
      ).json()) as { conversationId: string; customerParticipantId: string };
      const response = await fetch(`${stack().apiUrl}/prechat/enrich`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...(JSON.parse(sample.body) as object), conversationId: started.conversationId, participantId: started.customerParticipantId }),
      });
      const body = (await response.json()) as { enriched?: boolean };
      if (body.enriched === true) return true;
      await new Promise((done) => setTimeout(done, 2_000));
      return false;
    },
    80_000,
    'the pre-chat function to enrich the sample customer',
  );
}

beforeAll(async () => {
  reportDir = await mkdtemp(join(tmpdir(), 'demo-reports-'));
  await setWorkerPaused(false);
  await resetSandboxes();
  await preChatCanEnrich();
}, 120_000);
afterAll(async () => {
  await rm(reportDir, { recursive: true, force: true });
  // The refused records this file dead-lettered are not for the files after it.
  await purge('dlq');
  await resetSandboxes();
});
beforeEach(async () => {
  await resetSandboxes();
});

describe('the demo against the local stack', () => {
  it('reports success: every route as documented, the CRM records, the refused record in the DLQ, a fresh report', async () => {
    // Prepare: a reset stack (beforeEach)

    // Act
    const result = await runDemo(stack(), { reportDir, widget: false, settleTimeoutMs: 45_000 });

    // Assess
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(demoExitCode(result)).toBe(0);
    expect(result.steps.map((s) => [s.method, s.path.replace(/[0-9a-f-]{36}/g, '{id}'), s.actual])).toEqual([
      ['GET', '/health', 200],
      ['POST', '/sessions/{id}/prefill', 200],
      ['POST', '/__sandbox/messenger/conversations', 201],
      ['GET', '/__sandbox/state', 200],
      ['POST', '/webhooks/genesys', 202],
      ['POST', '/guests', 201],
      ['PATCH', '/guests/{id}', 200],
      ['GET', '/guests/{id}', 200],
      ['GET', '/guests/{id}/metrics', 200],
      ['POST', '/prechat/enrich', 200],
      ['POST', '/sessions/{id}/prefill', 200],
      ['POST', '/__sandbox/messenger/conversations/{id}/end', 200],
    ]);
    expect(result.settled).toBe(true);
    expect(result.records.map((r) => [r.from, r.found])).toEqual([
      ['prefill + webhook + events', true],
      ['guest create + update', true],
      ['pre-chat', true],
    ]);
    // At least once: a redelivered copy of the refused job is dead-lettered beside it, with the same job id and code.
    const refused = result.dlq.filter((row) => row.verdict === 'expected');
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const row of refused) {
      expect(row).toMatchObject({ jobId: result.rejectedJobId, failureCode: DEMO_REJECTION_CODE, failureReason: expect.stringContaining('refuses this record') });
    }
    expect(result.dlq.filter((row) => row.verdict === 'unexpected')).toEqual([]);
    expect(existsSync(result.report?.html ?? '')).toBe(true);
    expect(existsSync(result.report?.json ?? '')).toBe(true);
  }, 120_000);

  describe.each([
    ['Genesys refuses every participant attribute write', 'patchConversationParticipantAttributes', 400, 502],
    ['Genesys answers 404 for the conversation', 'patchConversationParticipantAttributes', 404, 404],
  ])('when %s', (_case, operation, status, answered) => {
    it('reports failure naming the Data Action request and the attribute the events function could not re-assert, and exits non-zero', async () => {
      // Prepare
      await addFaults('genesys', [{ operation, status }]);

      // Act
      const result = await runDemo(stack(), { reportDir, widget: false, settleTimeoutMs: 45_000 });

      // Assess: the two steps that need the PATCH fail; everything else behaves
      expect(result.ok).toBe(false);
      expect(demoExitCode(result)).not.toBe(0);
      const prechat = result.steps.filter((s) => s.path === '/prechat/enrich');
      expect(prechat.map((s) => [s.actual, s.ok])).toEqual([[answered, false]]);
      const reassert = result.steps.filter((s) => s.title.startsWith('the events function re-asserted'));
      expect(reassert.map((s) => s.ok)).toEqual([false]);
      expect(reassert[0]?.note).toContain('still differs from the prepared session');
      expect(result.problems).toEqual(
        expect.arrayContaining([
          `POST /prechat/enrich: expected 200, got ${answered}${prechat[0]?.note ? ` (${prechat[0].note})` : ''}`,
          expect.stringMatching(/CRM record cust-1001 \(pre-chat\): missing from the CRM/),
        ]),
      );
      expect(result.steps.filter((s) => s.path !== '/prechat/enrich' && !reassert.includes(s)).every((s) => s.ok)).toBe(true);
    }, 120_000);
  });
});
