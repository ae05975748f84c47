/**
 * Benchmark: prefill while SQS is stalled (it accepts connections and never answers), on a
 * local stack of its own. The same number of prefills runs first with SQS healthy, then
 * with the functions' SQS stalled through the stack's fault gate; then SQS answers again,
 * the outbox sweep runs, and every accepted job is looked for in the sandbox CRM.
 * Loopback only; bounded by the request count.
 */
import { randomUUID } from 'node:crypto';
import { freeStackPorts, startLocalStack, type LocalStack } from '#local/stack.ts';
import { mintLocalToken } from '#local/tokens.ts';
import { table } from './support/markdown.ts';
import { percentile } from './support/stats.ts';
import type { Benchmark, BenchContext } from './support/types.ts';

const REQUESTS = 60;
const CONCURRENCY = 6;
/** The prefill function's timeout in serverless.yml (provider default). */
const FUNCTION_TIMEOUT_MS = 10_000;

interface Phase {
  name: string;
  latencies: number[];
  statuses: Record<string, number>;
  pending: number;
  sessions: string[];
}

async function runPhase(stack: LocalStack, name: string, token: string): Promise<Phase> {
  const phase: Phase = { name, latencies: [], statuses: {}, pending: 0, sessions: [] };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < REQUESTS) {
      next += 1;
      const sessionId = randomUUID();
      const started = performance.now();
      const response = await fetch(`${stack.endpoints.apiUrl}/sessions/${sessionId}/prefill`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ attributes: { tier: 'gold', note: `bench ${name}` } }),
      });
      const body = (await response.json().catch(() => ({}))) as { sync?: string };
      phase.latencies.push(performance.now() - started);
      phase.statuses[response.status] = (phase.statuses[response.status] ?? 0) + 1;
      if (response.status === 200) phase.sessions.push(sessionId);
      if (body.sync === 'pending') phase.pending += 1;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return phase;
}

async function crmRecords(stack: LocalStack): Promise<Set<string>> {
  const state = (await (await fetch(`${stack.endpoints.crmUrl}/__sandbox/state`)).json()) as { records: Record<string, unknown> };
  return new Set(Object.keys(state.records));
}

export const sqsStallBenchmark: Benchmark = {
  name: 'prefill with SQS stalled',
  async run(context: BenchContext): Promise<string> {
    const ports = await freeStackPorts();
    const stack = await startLocalStack({
      ...ports,
      cwd: context.projectRoot,
      writeStackFile: false,
      offlineOutput: '.local/bench-sqs-stall-offline.log',
      metricsFile: `.local/bench-sqs-stall-metrics/emf-${ports.port}.jsonl`,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', LOG_LEVEL: 'WARN' },
    });
    try {
      const token = await mintLocalToken({ sub: 'bench', scope: 'guest-sync/write', audience: 'machine' });
      context.progress('sqs-stall: warm-up');
      await runPhase(stack, 'warm-up', token);
      context.progress('sqs-stall: SQS healthy');
      const healthy = await runPhase(stack, 'SQS healthy', token);
      context.progress('sqs-stall: SQS stalled');
      stack.sqsGate.setMode('stall');
      const stalled = await runPhase(stack, 'SQS stalled', token);
      stack.sqsGate.setMode('pass');

      const resumed = performance.now();
      let swept = 0;
      const expected = new Set(stalled.sessions);
      let found = 0;
      while (performance.now() - resumed < 120_000) {
        const report = (await stack.fireSchedule('outboxSweep')) as { sent?: number };
        swept += report.sent ?? 0;
        const records = await crmRecords(stack);
        found = [...expected].filter((id) => records.has(id)).length;
        if (found === expected.size) break;
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
      const recoverySeconds = (performance.now() - resumed) / 1000;

      const row = (phase: Phase) => [
        phase.name,
        String(REQUESTS),
        Object.entries(phase.statuses).map(([status, n]) => `${status}: ${n}`).join(', '),
        String(phase.pending),
        percentile(phase.latencies, 50).toFixed(0),
        percentile(phase.latencies, 99).toFixed(0),
        Math.max(...phase.latencies).toFixed(0),
      ];
      return [
        '## Prefill with SQS stalled',
        '',
        `${REQUESTS} prefills per phase, ${CONCURRENCY} at a time, on a local stack of the benchmark's own. "SQS stalled": the functions' SQS endpoint accepts every connection and never answers (the stack's fault gate). The prefill function's timeout is ${FUNCTION_TIMEOUT_MS / 1000} s.`,
        '',
        table(['phase', 'requests', 'answers', 'sync pending', 'p50 ms', 'p99 ms', 'max ms'], [row(healthy), row(stalled)]),
        '',
        `- Slowest answer with SQS stalled: ${Math.max(...stalled.latencies).toFixed(0)} ms, ${Math.max(...stalled.latencies) < FUNCTION_TIMEOUT_MS ? 'within' : 'NOT within'} the function's ${FUNCTION_TIMEOUT_MS / 1000} s deadline.`,
        `- After SQS answered again: the outbox sweep sent ${swept} job(s); ${found} of ${expected.size} accepted prefills were in the CRM after ${recoverySeconds.toFixed(1)} s; lost: ${expected.size - found}.`,
      ].join('\n');
    } finally {
      stack.sqsGate.setMode('pass');
      await stack.stop();
    }
  },
};
