/**
 * Two local stacks from one checkout: each owns its state file, `.local/stack.json` names
 * the newest one still running, and stopping one never takes the other's file away. The
 * scripts find the stack they are pointed at.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findStack, publishStack } from '#local/stack-state.ts';
import type { StackEndpoints } from '#local/stack.ts';
import { readStackEndpoints } from '#scripts/stack-endpoints.ts';

let cwd: string;
beforeEach(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'stack-state-'));
});
afterEach(() => rm(cwd, { recursive: true, force: true }));

/** Endpoints of a stack whose HTTP API listens on `port` (the others follow it). */
const endpointsOn = (port: number): StackEndpoints => ({
  apiUrl: `http://127.0.0.1:${port}`,
  controlUrl: `http://127.0.0.1:${port + 1}`,
  lambdaEndpoint: `http://127.0.0.1:${port + 2}`,
  secretsEndpoint: `http://127.0.0.1:${port + 3}`,
  sqsEndpoint: `http://127.0.0.1:${port + 4}`,
  queueUrl: `http://sqs.us-east-1.localhost:${port + 4}/000000000000/q`,
  dlqUrl: `http://sqs.us-east-1.localhost:${port + 4}/000000000000/dlq`,
  dynamodbEndpoint: `http://127.0.0.1:${port + 7}`,
  stateTableName: 'genesys-guest-sync-local-state',
  genesysUrl: `http://127.0.0.1:${port + 5}`,
  crmUrl: `http://127.0.0.1:${port + 6}`,
  sandboxGenesys: true,
  crmProvider: 'rest',
  sandboxCrm: true,
  jwtIssuer: 'http://127.0.0.1/genesys-guest-sync-local',
  jwtAudience: 'genesys-guest-sync',
  widgetJwtAudience: 'web-messenger',
  secretIds: { genesys: 'g', crm: 'c', webhook: 'w', identity: 'i' },
  metricsFile: join(cwd, 'emf.jsonl'),
  eventBusUrl: `http://127.0.0.1:${port + 8}`,
  eventBusName: 'aws.partner/genesys.com/cloud/org/guest-sync-local',
  eventsDlqUrl: `http://sqs.us-east-1.localhost:${port + 4}/000000000000/events-dlq`,
});

const current = async (): Promise<StackEndpoints | undefined> =>
  JSON.parse(await readFile(join(cwd, '.local', 'stack.json'), 'utf8').catch(() => 'null')) ?? undefined;
const files = async (): Promise<string[]> => (await readdir(join(cwd, '.local')).catch(() => [])).filter((name) => name.endsWith('.json')).sort();

/** The pid of a process that has exited (a stack that crashed without cleaning up). */
const deadPid = (): Promise<number> =>
  new Promise((done) => {
    const child = spawn(process.execPath, ['-e', '']);
    child.once('exit', () => done(child.pid as number));
  });

describe('two local stacks from one checkout', () => {
  it('each writes its own file, and stack.json lists the newest one\'s endpoints', async () => {
    // Act
    await publishStack(cwd, endpointsOn(3000));
    await publishStack(cwd, endpointsOn(3100));

    // Assess
    expect(await files()).toEqual(['stack-3000.json', 'stack-3100.json', 'stack.json']);
    expect(await current()).toMatchObject(endpointsOn(3100));
    expect(JSON.parse(await readFile(join(cwd, '.local', 'stack-3000.json'), 'utf8'))).toMatchObject({ ...endpointsOn(3000), pid: process.pid });
  });

  it('stopping the second leaves the first\'s file, and stack.json names the first again', async () => {
    // Prepare
    await publishStack(cwd, endpointsOn(3000));
    const stopSecond = await publishStack(cwd, endpointsOn(3100));

    // Act
    await stopSecond();

    // Assess
    expect(await files()).toEqual(['stack-3000.json', 'stack.json']);
    expect(await current()).toMatchObject(endpointsOn(3000));
  });

  it('stopping the first leaves stack.json to the second, and the last one out removes it', async () => {
    // Prepare
    const stopFirst = await publishStack(cwd, endpointsOn(3000));
    const stopSecond = await publishStack(cwd, endpointsOn(3100));

    // Act
    await stopFirst();

    // Assess
    expect(await files()).toEqual(['stack-3100.json', 'stack.json']);
    expect(await current()).toMatchObject(endpointsOn(3100));
    await stopSecond();
    expect(await files()).toEqual([]);
  });

  it('lets a script pick either by --api-url or PORT, and otherwise gives it the newest', async () => {
    // Prepare
    await publishStack(cwd, endpointsOn(3000));
    await publishStack(cwd, endpointsOn(3100));

    // Act / Assess
    expect((await readStackEndpoints(cwd, { apiUrl: 'http://127.0.0.1:3000/' }, {}))?.apiUrl).toBe('http://127.0.0.1:3000');
    expect((await readStackEndpoints(cwd, {}, { PORT: '3000' }))?.apiUrl).toBe('http://127.0.0.1:3000');
    expect((await readStackEndpoints(cwd, {}, {}))?.apiUrl).toBe('http://127.0.0.1:3100');
    expect(await readStackEndpoints(cwd, { apiUrl: 'http://127.0.0.1:3200' }, {})).toBeUndefined();
  });

  it('skips the files of a stack whose process is gone', async () => {
    // Prepare: the first stack runs; a crashed one left both its file and stack.json behind
    await publishStack(cwd, endpointsOn(3000));
    const crashed = { ...endpointsOn(3100), pid: await deadPid(), startedAt: new Date(Date.now() + 1_000).toISOString() };
    await writeFile(join(cwd, '.local', 'stack-3100.json'), JSON.stringify(crashed));
    await writeFile(join(cwd, '.local', 'stack.json'), JSON.stringify(crashed));

    // Act
    const found = await findStack(cwd);

    // Assess
    expect(found?.apiUrl).toBe('http://127.0.0.1:3000');
  });

  it('still reads a stack.json written by hand or by an older stack (no pid)', async () => {
    // Prepare
    await mkdir(join(cwd, '.local'));
    await writeFile(join(cwd, '.local', 'stack.json'), JSON.stringify(endpointsOn(3300)));

    // Act / Assess
    expect((await readStackEndpoints(cwd, {}, {}))?.apiUrl).toBe('http://127.0.0.1:3300');
  });
});
