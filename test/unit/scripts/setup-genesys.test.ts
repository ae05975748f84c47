/**
 * `npm run setup-genesys` as an operator runs it against an organisation (here a sandbox
 * Genesys, version 2, reached the way any stage reaches Genesys Cloud: base URLs and a
 * client from the environment): it prints the ids for the stage parameters and is safe to
 * run again.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGenesysSandboxV2, type GenesysSandboxV2 } from '#local/sandbox/genesys/index.ts';

const root = resolve(import.meta.dirname, '../../..');
const TSX = resolve(root, 'node_modules/.bin/tsx');
const CLIENT = { clientId: 'setup-client', clientSecret: 'setup-secret' };

let sandbox: GenesysSandboxV2;
beforeAll(async () => {
  sandbox = await startGenesysSandboxV2({ clients: [CLIENT] });
});
afterAll(async () => {
  await sandbox.close();
});

/** Runs the script with a stage pointed at the sandbox; its exit code and output. */
const setupGenesys = (args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((done) => {
    const child = spawn(TSX, ['scripts/setup-genesys.ts', ...args], {
      cwd: root,
      env: {
        PATH: process.env['PATH'] ?? '',
        GENESYS_API_BASE_URL: sandbox.url,
        GENESYS_LOGIN_BASE_URL: sandbox.url,
        GENESYS_CLIENT_ID: CLIENT.clientId,
        GENESYS_CLIENT_SECRET: CLIENT.clientSecret,
        ...env,
      },
    });
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

describe('npm run setup-genesys', () => {
  it('creates the guest set-up, prints the stage parameters, and prints the same ids again on a second run without creating anything', async () => {
    // Act
    const first = await setupGenesys(['--stage', 'prod']);
    const second = await setupGenesys(['--stage', 'prod']);

    // Assess
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('created: externalSource, contactSchema');
    const source = /guestExternalSourceId: ([0-9a-f-]{36})/.exec(first.stdout)?.[1];
    const schema = /guestContactSchemaId: ([0-9a-f-]{36})/.exec(first.stdout)?.[1];
    expect(source).toBe(sandbox.state().externalSources[0]?.['id']);
    expect(schema).toBe(sandbox.state().contactSchemas[0]?.['id']);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('both already existed');
    expect(second.stdout).toBe(first.stdout);
    expect(sandbox.state().externalSources).toHaveLength(1);
    expect(sandbox.state().contactSchemas).toHaveLength(1);
  }, 60_000);

  it('says what to fix when Genesys refuses the client, exit 1', async () => {
    // Act
    const run = await setupGenesys(['--stage', 'prod', '--json'], { GENESYS_CLIENT_SECRET: 'wrong' });

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^setup-genesys: Genesys refused the OAuth client/);
    expect(run.stdout).toBe('');
  }, 60_000);
});
