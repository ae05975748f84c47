/** Finds a running local stack's endpoints (written by `npm start` to `.local/stack.json`). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StackEndpoints } from '../local/stack.ts';

/** The endpoints of the local stack started from this checkout, if it wrote them. */
export async function readStackEndpoints(cwd = process.cwd()): Promise<StackEndpoints | undefined> {
  try {
    return JSON.parse(await readFile(join(cwd, '.local', 'stack.json'), 'utf8')) as StackEndpoints;
  } catch {
    return undefined;
  }
}
