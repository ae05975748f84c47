/**
 * Packages the service the way `npm run package` does (`osls package --stage example`,
 * serverless-esbuild with the esbuild options of serverless.yml) and lists its functions.
 *
 * Packaging runs in a private copy of the service folder (symlinks to everything but
 * serverless.yml, which osls wants as a real file), so the project's own .serverless/ and
 * .esbuild/ are never touched while other people build or run the local stack.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, symlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Entries of the project root the private copy leaves out (build output, state, VCS). */
const SKIPPED = new Set(['.git', '.serverless', '.esbuild', '.serverless-offline', '.local', 'serverless.yml']);

/** One packaged function, as osls resolved it. */
export interface PackagedFunction {
  /** The key under `functions:` in serverless.yml. */
  key: string;
  /** The deployed name, e.g. `genesys-guest-sync-example-health`. */
  name: string;
  /** `functions/http/health.handler`. */
  handler: string;
  /** The zip osls wrote. */
  artifact: string;
  /** Provider and function environment merged as Lambda sets it (CloudFormation values unresolved). */
  environment: Record<string, unknown>;
  memorySize: number | undefined;
}

/** The result of one `osls package`. */
export interface PackagedService {
  functions: PackagedFunction[];
  /** `custom.esbuild` as osls resolved it. */
  esbuild: Record<string, unknown>;
  /** `provider.environment` (what every function gets). */
  providerEnvironment: Record<string, unknown>;
  /** Wall time of the `osls package` run. */
  packageMs: number;
}

interface ServerlessState {
  service: {
    provider: { environment?: Record<string, unknown>; memorySize?: number };
    custom?: { esbuild?: Record<string, unknown> };
    functions: Record<
      string,
      { name: string; handler?: string; image?: unknown; environment?: Record<string, unknown>; memorySize?: number; package?: { artifact?: string } }
    >;
  };
}

/** Runs `osls package --stage <stage>` into `workDir` and reads its serverless-state.json. */
export async function packageService(projectRoot: string, workDir: string, stage = 'example'): Promise<PackagedService> {
  const serviceDir = join(workDir, 'service');
  const outDir = join(workDir, 'package');
  await mkdir(serviceDir, { recursive: true });
  for (const entry of await readdir(projectRoot)) {
    if (!SKIPPED.has(entry)) await symlink(join(projectRoot, entry), join(serviceDir, entry));
  }
  await copyFile(join(projectRoot, 'serverless.yml'), join(serviceDir, 'serverless.yml'));

  const began = performance.now();
  await run(join(projectRoot, 'node_modules', '.bin', 'osls'), ['package', '--stage', stage, '--package', outDir], {
    cwd: serviceDir,
    timeout: 180_000,
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
  });
  const packageMs = performance.now() - began;

  const state = JSON.parse(await readFile(join(outDir, 'serverless-state.json'), 'utf8')) as ServerlessState;
  const { provider, functions } = state.service;
  return {
    esbuild: state.service.custom?.esbuild ?? {},
    providerEnvironment: { ...provider.environment },
    packageMs,
    functions: Object.entries(functions).flatMap(([key, fn]) => {
      if (!fn.handler || !fn.package?.artifact) return [];
      return [
        {
          key,
          name: fn.name,
          handler: fn.handler,
          artifact: join(outDir, basename(fn.package.artifact)),
          environment: { ...provider.environment, ...fn.environment },
          memorySize: fn.memorySize ?? provider.memorySize,
        },
      ];
    }),
  };
}

/** Extracts a zip with the system `unzip` (present on Linux and macOS). */
export async function unzip(zipPath: string, into: string): Promise<void> {
  await mkdir(into, { recursive: true });
  await run('unzip', ['-q', '-o', zipPath, '-d', into], { timeout: 60_000 });
}
