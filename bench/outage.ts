/**
 * Benchmark: jobs in the DLQ after a 1-hour CRM outage (goal 0), and what the outage
 * cost: receives spent per job, time the worker's event source mapping was paused, CRM
 * requests made while the CRM was down.
 *
 * These numbers come from the fast-clock MODEL (test/unit/lib/sync/outage-model.ts), not
 * from AWS or the local stack: simulated SQS (visibility, receive counts, redrive to the
 * DLQ after maxReceiveCount), a simulated event source mapping (batch size, batching
 * window, a disable lag) and schedule, around the suite's real worker and control logic,
 * with the deployed settings of serverless.yml (visibility 180 s, maxReceiveCount 5,
 * batches of 100 gathered for 5 s, a 30 s worker timeout, one probe a minute). Hours of
 * simulated time take about a second. The local stack plays a shorter outage for real in
 * test/integration/crm-outage.test.ts.
 */
import { logger } from '#lib/observability';
import { runOutageModel, type CrmBehaviour, type OutageResult, type OutageScenario } from '#test/unit/lib/sync/outage-model.ts';
import { table } from './support/markdown.ts';
import type { Benchmark } from './support/types.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The CRM is down from minute 1 for one hour. */
const hourDown = (t: number): CrmBehaviour => (t >= MINUTE && t < MINUTE + HOUR ? { kind: 'down' } : { kind: 'up' });
/** The CRM's daily quota runs out at minute 1 and resets at hour 6. */
const quota = (t: number): CrmBehaviour => (t >= MINUTE && t < 6 * HOUR ? { kind: 'quota', resetAt: 6 * HOUR } : { kind: 'up' });

/** 500 jobs waiting, then one every 2 s for 90 minutes: 3,200 jobs. */
const traffic: Pick<OutageScenario, 'backlog' | 'arrivalEveryMs' | 'arrivalsUntil'> = { backlog: 500, arrivalEveryMs: 2_000, arrivalsUntil: 90 * MINUTE };

const scenarios: Array<{ name: string; scenario: OutageScenario }> = [
  { name: '1-hour outage (503 to everything)', scenario: { crm: hourDown, ...traffic, endBy: 6 * HOUR } },
  { name: '1-hour outage, without the pause (the worker before it)', scenario: { crm: hourDown, ...traffic, endBy: 6 * HOUR, pause: false } },
  { name: '1-hour outage, the control function unable to switch the mapping', scenario: { crm: hourDown, ...traffic, endBy: 6 * HOUR, mappingSwitchFails: true } },
  { name: 'daily quota used up, resets 6 h later (429 + Retry-After)', scenario: { crm: quota, ...traffic, endBy: 10 * HOUR } },
];

const minutes = (ms: number): string => `${(ms / MINUTE).toFixed(1)} min`;

function row(name: string, result: OutageResult, wallMs: number): string[] {
  return [
    name,
    String(result.jobs),
    String(result.inCrm),
    String(result.dlqJobs),
    String(result.leftInQueue),
    result.receivesPerJob.toFixed(3),
    String(result.receivesWhilePaused),
    String(result.resent),
    minutes(result.pausedMs),
    String(result.probes),
    String(result.crmRequestsWhileUnavailable),
    result.drainedAt === undefined ? 'no' : minutes(result.drainedAt),
    `${(wallMs / 1000).toFixed(2)} s`,
  ];
}

/** The outage benchmark (fast-clock model). */
export const outageBenchmark: Benchmark = {
  name: 'outage',
  async run(context) {
    const level = logger.getLevelName();
    logger.setLogLevel('ERROR');
    const rows: string[][] = [];
    try {
      for (const { name, scenario } of scenarios) {
        context.progress(`outage model: ${name}`);
        const started = performance.now();
        const result = await runOutageModel(scenario);
        rows.push(row(name, result, performance.now() - started));
      }
    } finally {
      logger.setLogLevel(level);
    }
    return [
      '## CRM outage: jobs in the DLQ (fast-clock model)',
      '',
      'Goal: 0 jobs in the DLQ after a 1-hour CRM outage. Measured on the fast-clock **model** of SQS, the event source mapping and the schedule',
      '(test/unit/lib/sync/outage-model.ts) running the real worker and control logic with the deployed settings (visibility 180 s,',
      'maxReceiveCount 5, batches of 100 within 5 s, worker timeout 30 s, one probe a minute, a 5 s lag before a disabled mapping stops delivering).',
      `Traffic: ${traffic.backlog} jobs waiting, then one every ${traffic.arrivalEveryMs / 1000} s for ${traffic.arrivalsUntil / MINUTE} minutes. Not a measurement of AWS itself.`,
      '',
      table(
        ['scenario', 'jobs', 'in CRM', 'in DLQ', 'left in queue', 'receives per job', 'receives while paused', 'resent', 'mapping paused', 'probes', 'CRM requests while unavailable', 'queue drained at', 'wall time'],
        rows,
        ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      ),
    ].join('\n');
  },
};
