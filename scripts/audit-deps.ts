/**
 * `npm run audit:deps` checks the runtime dependencies for known vulnerabilities:
 * `npm audit --omit=dev --audit-level=high --json`, read back and judged here so that a
 * registry without the audit endpoint is told apart from a clean or a failing audit.
 *
 * Exit codes: 0 no high or critical advisory; 1 high or critical advisories (listed);
 * 3 the audit is unavailable from this registry (for example a mirror that answers the
 * bulk advisory endpoint with "405 Method Not Allowed"); 2 anything else went wrong.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseCli } from './cli.ts';

/** Exit code for an audit the registry could not answer (CI reports it, and goes on). */
export const AUDIT_UNAVAILABLE = 3;

/** What one `npm audit --json` output means for CI. */
export type AuditVerdict =
  | { kind: 'clean'; counts: Record<string, number> }
  | { kind: 'findings'; counts: Record<string, number>; packages: Array<{ name: string; severity: string }> }
  | { kind: 'unavailable'; reason: string }
  | { kind: 'error'; reason: string };

const BLOCKING = new Set(['high', 'critical']);

/** Judges the JSON `npm audit --json` printed (npm 7+ report format, version 2). */
export function judgeAudit(stdout: string): AuditVerdict {
  let report: Record<string, any>;
  try {
    report = JSON.parse(stdout) as Record<string, any>;
  } catch {
    return { kind: 'error', reason: 'npm audit printed no JSON report' };
  }
  const counts = report['metadata']?.['vulnerabilities'] as Record<string, number> | undefined;
  if (counts === undefined) {
    // npm prints the failed advisory request instead of a report: status, message, or error code.
    const status = report['statusCode'] ?? report['error']?.['code'];
    const message = String(report['message'] ?? report['error']?.['summary'] ?? 'no report');
    if (status !== undefined || /audit endpoint|advisories|ENOTFOUND|ECONNREFUSED|EAI_AGAIN|ETIMEDOUT/i.test(message)) {
      return { kind: 'unavailable', reason: message };
    }
    return { kind: 'error', reason: message };
  }
  const packages = Object.values((report['vulnerabilities'] ?? {}) as Record<string, { name: string; severity: string }>)
    .filter((v) => BLOCKING.has(v.severity))
    .map(({ name, severity }) => ({ name, severity }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return (counts['high'] ?? 0) + (counts['critical'] ?? 0) > 0 ? { kind: 'findings', counts, packages } : { kind: 'clean', counts };
}

const runAudit = (): Promise<string> =>
  new Promise((done) => {
    // npm audit exits non-zero both for findings and for failures: the JSON decides.
    execFile('npm', ['audit', '--omit=dev', '--audit-level=high', '--json'], { maxBuffer: 64 * 1024 * 1024, timeout: 120_000 }, (_error, stdout) =>
      done(stdout),
    );
  });

async function main(): Promise<number> {
  const verdict = judgeAudit(await runAudit());
  switch (verdict.kind) {
    case 'clean':
      console.log(`npm audit (runtime dependencies): no high or critical vulnerability (${JSON.stringify(verdict.counts)})`);
      return 0;
    case 'findings':
      console.error(`npm audit (runtime dependencies): high or critical vulnerabilities (${JSON.stringify(verdict.counts)}):`);
      for (const p of verdict.packages) console.error(`  ${p.severity.padEnd(8)} ${p.name}`);
      return 1;
    case 'unavailable':
      console.error(`npm audit unavailable from this registry: ${verdict.reason}`);
      console.error('The runtime dependencies were NOT checked for vulnerabilities.');
      return AUDIT_UNAVAILABLE;
    case 'error':
      console.error(`npm audit failed: ${verdict.reason}`);
      return 2;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  parseCli({ name: 'audit:deps', usage: 'usage: npm run audit:deps   (no options; exit 0 clean, 1 findings, 3 audit unavailable, 2 error)', options: {} });
  process.exitCode = await main();
}
