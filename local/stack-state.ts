/**
 * The state files of running local stacks, which the operator scripts read to find them.
 * Each stack owns `.local/stack-<API port>.json`; `.local/stack.json` is a copy of the most
 * recently started one still running (docs/api.md section 9: it lists the endpoints). A stack
 * that stops removes its own file, and `stack.json` only if that copy is its own (then the
 * newest other running stack takes its place).
 */
import { readdir, readFile, rename, rm, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { StackEndpoints } from './stack.ts';

/** A stack's state file: its endpoints, and which process runs it since when. */
export type StackState = StackEndpoints & { pid?: number; startedAt?: string };

/** How a script picks a stack: by its API URL, else by port, else the current one. */
export interface StackSelector {
  /** `--api-url` of the scripts: only the stack serving this URL. */
  apiUrl?: string | undefined;
  /** A stack's HTTP API port (the scripts take it from PORT, when such a stack runs). */
  port?: number | undefined;
}

/** The folder of the state files. */
export const stateDir = (cwd: string): string => join(cwd, '.local');
/** The file that points at the current stack (docs/api.md section 9). */
export const currentStackFile = (cwd: string): string => join(stateDir(cwd), 'stack.json');
/** The file a stack serving the HTTP API on `port` owns. */
export const stackFile = (cwd: string, port: number | string): string => join(stateDir(cwd), `stack-${port}.json`);

const portOf = (apiUrl: string | undefined): string | undefined => {
  try {
    return new URL(apiUrl ?? '').port;
  } catch {
    return undefined;
  }
};
const sameUrl = (a: string | undefined, b: string | undefined): boolean =>
  a !== undefined && b !== undefined && a.replace(/\/+$/, '') === b.replace(/\/+$/, '');

/** Whether the process that wrote a state file still runs (files without a pid are trusted). */
export function isRunning(state: StackState): boolean {
  if (state.pid === undefined) return true;
  try {
    process.kill(state.pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readState(path: string): Promise<StackState | undefined> {
  try {
    // A file written by hand or by an older stack may lack fields: whatever it lists is used.
    const state = JSON.parse(await readFile(path, 'utf8')) as StackState | null;
    return typeof state === 'object' && state !== null ? state : undefined;
  } catch {
    return undefined;
  }
}

/** Writes a file whole (rename), so a reader never sees half of it. */
async function writeWhole(path: string, state: StackState): Promise<void> {
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`);
  await rename(temporary, path);
}

/** Every running stack's state (own files only), the most recently started first. */
export async function runningStacks(cwd: string): Promise<StackState[]> {
  const names = await readdir(stateDir(cwd)).catch(() => [] as string[]);
  const states = await Promise.all(names.filter((name) => /^stack-\d+\.json$/.test(name)).map((name) => readState(join(stateDir(cwd), name))));
  return states
    .filter((state): state is StackState => state !== undefined && isRunning(state))
    .sort((a, b) => (b.startedAt ?? '').localeCompare(a.startedAt ?? ''));
}

/**
 * Publishes a started stack: its own file and `stack.json`. Returns the withdrawal its
 * stop runs: its own file goes, and `stack.json` too if it is still this stack's copy
 * (replaced by the newest other running stack, if any).
 */
export async function publishStack(cwd: string, endpoints: StackEndpoints): Promise<() => Promise<void>> {
  const state: StackState = { ...endpoints, pid: process.pid, startedAt: new Date().toISOString() };
  await mkdir(stateDir(cwd), { recursive: true });
  const own = stackFile(cwd, portOf(endpoints.apiUrl) ?? 'unknown');
  await writeWhole(own, state);
  await writeWhole(currentStackFile(cwd), state);
  return async () => {
    await rm(own, { force: true });
    const current = await readState(currentStackFile(cwd));
    if (!current || current.pid !== state.pid || !sameUrl(current.apiUrl, state.apiUrl)) return;
    const [next] = (await runningStacks(cwd)).filter((other) => !sameUrl(other.apiUrl, state.apiUrl));
    if (next) await writeWhole(currentStackFile(cwd), next);
    else await rm(currentStackFile(cwd), { force: true });
  };
}

/**
 * The stack a script should use: the one serving `apiUrl` when given (none otherwise);
 * else the one on `port` if it runs; else `stack.json` if its stack runs; else the most
 * recently started running stack.
 */
export async function findStack(cwd: string, selector: StackSelector = {}): Promise<StackState | undefined> {
  const running = await runningStacks(cwd);
  const current = await readState(currentStackFile(cwd));
  const candidates = [...running, ...(current && isRunning(current) ? [current] : [])];
  if (selector.apiUrl !== undefined) return candidates.find((state) => sameUrl(state.apiUrl, selector.apiUrl as string));
  if (selector.port !== undefined) {
    const onPort = candidates.find((state) => portOf(state.apiUrl) === String(selector.port));
    if (onPort) return onPort;
  }
  if (current && isRunning(current)) return current;
  return running[0];
}
