/**
 * Finds a running local stack's endpoints for the scripts: `--api-url` picks one by its
 * HTTP API URL; else the stack on PORT, when one runs there; else `.local/stack.json` (the
 * most recently started stack that still runs). See local/stack-state.ts.
 */
import { findStack, type StackSelector } from '#local/stack-state.ts';
import type { StackEndpoints } from '#local/stack.ts';

/** The `--api-url` option every script that reads the local stack accepts. */
export const API_URL_OPTION = { 'api-url': { type: 'string' } } as const;

/** The usage fragment for it. */
export const API_URL_USAGE = '[--api-url <local stack HTTP API URL, when several run>]';

/** The endpoints of the local stack a script should use, if one runs from this checkout. */
export async function readStackEndpoints(cwd = process.cwd(), selector: StackSelector = {}, env: NodeJS.ProcessEnv = process.env): Promise<StackEndpoints | undefined> {
  const port = Number(env['PORT']);
  return findStack(cwd, { ...(Number.isInteger(port) && port > 0 ? { port } : {}), ...selector });
}

/** How to say that no stack was found, naming the selection that failed. */
export const noStackFound = (selector: StackSelector = {}): string =>
  selector.apiUrl ? `no local stack serves ${selector.apiUrl} (.local/stack-<port>.json)` : 'no local stack found (.local/stack.json)';
