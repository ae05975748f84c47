/**
 * Hours of CRM trouble on the fast-clock model of SQS, the event source mapping and the
 * schedule (see outage-model.ts for what it models and how), with the worker's and the
 * control function's real logic.
 */
import { describe, expect, it } from 'vitest';
import { runOutageModel, type CrmBehaviour } from './outage-model.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The CRM is down from minute 1 for `length`, up otherwise. */
const downFor = (length: number) => (t: number): CrmBehaviour => (t >= MINUTE && t < MINUTE + length ? { kind: 'down' } : { kind: 'up' });

describe('a CRM outage on the fast-clock model (deployed settings: visibility 180 s, 5 receives)', () => {
  it('a 1-hour outage ends with every job in the CRM and none in the DLQ, the mapping paused meanwhile', async () => {
    // Act: 300 jobs waiting, then one every 2 s for 80 minutes (2,700 jobs)
    const result = await runOutageModel({ crm: downFor(HOUR), backlog: 300, arrivalEveryMs: 2_000, arrivalsUntil: 80 * MINUTE, endBy: 4 * HOUR });

    // Assess
    expect(result.jobs).toBe(2_700);
    expect(result.inCrm).toBe(2_700);
    expect(result.dlqMessages).toBe(0);
    expect(result.leftInQueue).toBe(0);
    // Paused for (nearly) the whole hour: at most one probe a minute, each one CRM request.
    expect(result.pausedMs).toBeGreaterThan(58 * MINUTE);
    expect(result.probes).toBeLessThanOrEqual(61);
    expect(result.crmRequestsWhileUnavailable).toBeLessThan(result.probes + 10);
    // Receives were not spent waiting: about one per job.
    expect(result.receivesPerJob).toBeLessThan(1.1);
  });

  it('without the pause (the worker as it was) the same hour dead-letters most of the backlog', async () => {
    // Act
    const result = await runOutageModel({ crm: downFor(HOUR), backlog: 300, arrivalEveryMs: 2_000, arrivalsUntil: 80 * MINUTE, endBy: 4 * HOUR, pause: false });

    // Assess: the model reproduces the reported failure
    expect(result.dlqJobs).toBeGreaterThan(1_000);
    expect(result.inCrm).toBeLessThan(result.jobs);
  });

  it('an outage that flaps (up for 20 s every 4 minutes) still ends with nothing in the DLQ', async () => {
    // Prepare: short recoveries let the probe succeed and the mapping resume, then it fails again
    const flapping = (t: number): CrmBehaviour => (t >= MINUTE && t < MINUTE + 2 * HOUR && (t - MINUTE) % (4 * MINUTE) >= 20_000 ? { kind: 'down' } : { kind: 'up' });

    // Act
    const result = await runOutageModel({ crm: flapping, backlog: 2_000, arrivalEveryMs: 1_000, arrivalsUntil: 2 * HOUR, endBy: 6 * HOUR });

    // Assess
    expect(result.dlqMessages).toBe(0);
    expect(result.inCrm).toBe(result.jobs);
    expect(result.leftInQueue).toBe(0);
  });
});

describe('a CRM outage while the control function cannot switch the mapping', () => {
  it('spends receives but never reaches the DLQ: a job on its last receive starts over as a new message', async () => {
    // Act
    const result = await runOutageModel({ crm: downFor(HOUR), backlog: 300, arrivalEveryMs: 5_000, arrivalsUntil: 70 * MINUTE, endBy: 4 * HOUR, mappingSwitchFails: true });

    // Assess
    expect(result.pausedMs).toBe(0);
    expect(result.resent).toBeGreaterThan(0);
    expect(result.dlqMessages).toBe(0);
    expect(result.inCrm).toBe(result.jobs);
    expect(result.leftInQueue).toBe(0);
  });
});

describe('a daily CRM quota on the fast-clock model', () => {
  it('pauses until the quota resets: no probe, no CRM request and no receive in between, then every job is synced', async () => {
    // Prepare: the quota runs out at minute 1 and resets 6 hours in (429 with Retry-After until then)
    const resetAt = 6 * HOUR;
    const quota = (t: number): CrmBehaviour => (t >= MINUTE && t < resetAt ? { kind: 'quota', resetAt } : { kind: 'up' });

    // Act
    const result = await runOutageModel({ crm: quota, backlog: 300, arrivalEveryMs: 10_000, arrivalsUntil: 2 * HOUR, endBy: 8 * HOUR });

    // Assess
    expect(result.crmRequestsWhileUnavailable).toBe(1);
    expect(result.probes).toBe(1);
    expect(result.receivesWhilePaused).toBe(0);
    expect(result.pausedMs).toBeGreaterThan(resetAt - 2 * MINUTE);
    expect(result.drainedAt).toBeGreaterThanOrEqual(resetAt);
    expect(result.dlqMessages).toBe(0);
    expect(result.inCrm).toBe(result.jobs);
    expect(result.receivesPerJob).toBeLessThan(1.01);
  });
});
