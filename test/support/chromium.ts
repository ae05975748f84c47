/**
 * Headless Chromium for screenshot tests: Debian's `chromium` package, installed with
 * apt-get when missing (root only, bounded in time). Resolves to the binary, or to the
 * reason it cannot be had, so the test can skip saying why.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

const which = async (name: string): Promise<string | undefined> => {
  try {
    return (await run('sh', ['-c', `command -v ${name}`])).stdout.trim() || undefined;
  } catch {
    return undefined;
  }
};

/** The Chromium binary, installing Debian's package first if it is missing. */
export async function ensureChromium(): Promise<{ path: string } | { reason: string }> {
  const found = (await which('chromium')) ?? (await which('chromium-browser'));
  if (found) return { path: found };
  if (process.getuid?.() !== 0) return { reason: 'chromium is not installed and installing it needs root (apt-get install -y chromium)' };
  if (!(await which('apt-get'))) return { reason: 'chromium is not installed and there is no apt-get to install it with' };
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    await run('apt-get', ['update'], { timeout: 180_000, env });
    await run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { timeout: 480_000, env, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    return { reason: `chromium could not be installed with apt-get (${error instanceof Error ? error.message.split('\n')[0] : String(error)})` };
  }
  const installed = await which('chromium');
  return installed ? { path: installed } : { reason: 'apt-get installed chromium but no chromium binary is on the PATH' };
}

/** Flags for a quiet, sandbox-free headless run that touches nothing outside its profile. */
export function headlessFlags(profileDir: string): string[] {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--hide-scrollbars',
    `--user-data-dir=${profileDir}`,
  ];
}
