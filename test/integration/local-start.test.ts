/**
 * `npm start` as a newcomer meets it: PORT alone moves every port, the console carries no
 * SDK or Powertools noise, the stack owns its state file and removes it on Ctrl-C, and a
 * busy port ends the start with every busy port named, no stack trace and nothing running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { portIsFree, STACK_LISTENERS } from '#local/ports.ts';
import { freePort } from '#local/stack.ts';
import { stackFile } from '#local/stack-state.ts';

const root = resolve(import.meta.dirname, '../..');
const TSX = resolve(root, 'node_modules/.bin/tsx');

/** A PORT whose whole block (PORT .. PORT+6) is free. */
async function freeBlock(): Promise<number> {
  for (;;) {
    const base = await freePort();
    const free = await Promise.all(STACK_LISTENERS.map((_listener, index) => portIsFree(base + index)));
    if (free.every(Boolean)) return base;
  }
}

/** `npm start` in this checkout with only PORT set (no LOCAL_*_PORT, no SDK warning switch). */
function npmStart(port: number): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port) };
  for (const name of Object.keys(env)) if (/^LOCAL_.*_PORT$|^AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED$/.test(name)) delete env[name];
  const child = spawn(TSX, ['local/start.ts'], { cwd: root, env });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, output: () => output, exited };
}

const until = async (check: () => boolean, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((done) => setTimeout(done, 200));
  }
};

const held: Server[] = [];
const started: ChildProcess[] = [];
afterEach(async () => {
  for (const child of started.splice(0)) if (child.exitCode === null) child.kill('SIGINT');
  await Promise.all(held.splice(0).map((server) => new Promise<void>((done) => server.close(() => done()))));
});

describe('npm start', () => {
  it('moves every port with PORT alone, keeps the console quiet, and removes its own state file on Ctrl-C', async () => {
    // Prepare
    const port = await freeBlock();
    const stack = npmStart(port);
    started.push(stack.child);
    await until(() => stack.output().includes('Press Ctrl-C to stop.') || stack.child.exitCode !== null, 90_000);

    // Act: two health checks (each an invocation that adds no application metric)
    for (let i = 0; i < 2; i += 1) expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    const stateFile = JSON.parse(await readFile(stackFile(root, port), 'utf8')) as { apiUrl: string; crmUrl: string };
    stack.child.kill('SIGINT');
    const code = await stack.exited;

    // Assess
    const output = stack.output();
    expect(output).toContain(`HTTP API             http://127.0.0.1:${port}`);
    expect(output).toContain(`CRM (sandbox)        http://127.0.0.1:${port + 6}`);
    expect(stateFile).toMatchObject({ apiUrl: `http://127.0.0.1:${port}`, crmUrl: `http://127.0.0.1:${port + 6}` });
    expect(output).not.toContain('NodeVersionSupportWarning');
    expect(output).not.toContain('No application metrics to publish');
    expect(code).toBe(0);
    await expect(readFile(stackFile(root, port), 'utf8')).rejects.toThrow(/ENOENT/);
    for (const [index] of STACK_LISTENERS.entries()) expect(await portIsFree(port + index)).toBe(true);
  }, 120_000);

  it('names every busy port at once, without a stack trace, and leaves nothing running', async () => {
    // Prepare: something holds the HTTP API port and the control port
    const port = await freeBlock();
    for (const busy of [port, port + 1]) {
      const server = createServer();
      await new Promise<void>((done) => server.listen(busy, '127.0.0.1', () => done()));
      held.push(server);
    }

    // Act
    const stack = npmStart(port);
    started.push(stack.child);
    const code = await stack.exited;

    // Assess
    const output = stack.output();
    expect(code).toBe(1);
    expect(output).toContain(`${port} (HTTP API, PORT)`);
    expect(output).toContain(`${port + 1} (stack control, LOCAL_CONTROL_PORT)`);
    expect(output).toMatch(/PORT=\d+ npm start/);
    expect(output).not.toContain('EADDRINUSE');
    expect(output).not.toMatch(/^\s+at /m);
    for (let index = 2; index < STACK_LISTENERS.length; index += 1) expect(await portIsFree(port + index)).toBe(true);
  }, 60_000);
});
