/**
 * Every `npm run` script that runs a file of scripts/ answers a bad option the same way:
 * what is wrong, its usage line, exit code 2, and nothing done.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');
const TSX = resolve(root, 'node_modules/.bin/tsx');

/** `npm run <name>` scripts that are `tsx scripts/<file>.ts`, read from package.json (new ones join by themselves). */
const scripts = Object.entries(JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')).scripts as Record<string, string>)
  .map(([name, command]) => [name, /^tsx (scripts\/[\w/-]+\.ts)$/.exec(command)?.[1]] as const)
  .filter((entry): entry is readonly [string, string] => entry[1] !== undefined);

/** Runs a script file with arguments; its exit code and output (killed after 30 s). */
const runScript = (file: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((done) => {
    const child = spawn(TSX, [file, ...args], { cwd: root, env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });

describe('every script on a bad option', () => {
  it('covers the scripts of package.json', () => {
    expect(scripts.map(([name]) => name)).toEqual(expect.arrayContaining(['token', 'report', 'audit', 'dlq:inspect', 'dlq:redrive', 'demo', 'verify-conversation']));
  });

  it.concurrent.each(scripts)('npm run %s -- --bogus prints what is wrong and its usage, and exits 2', async (name, file) => {
    // Act
    const { code, stdout, stderr } = await runScript(file, ['--bogus']);

    // Assess
    expect(code).toBe(2);
    expect(stderr).toContain(`${name}: Unknown option '--bogus'`);
    expect(stderr).toContain(`usage: npm run ${name}`);
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stdout).toBe('');
  }, 40_000);

  it.concurrent.each(scripts)('npm run %s -- --help prints its usage and exits 0', async (name, file) => {
    // Act
    const { code, stdout } = await runScript(file, ['--help']);

    // Assess
    expect(code).toBe(0);
    expect(stdout).toContain(`usage: npm run ${name}`);
  }, 40_000);
});
