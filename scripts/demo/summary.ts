/**
 * The demo's summary for a person: every request with expected and actual status, the
 * records in the sandbox CRM (hashes shortened), the DLQ by failure code with reasons, the
 * fresh metrics report, and a verdict. Pure: it returns text.
 */
import { relative } from 'node:path';
import type { DemoResult } from './run.ts';

/** Long ids and hashes cut to something a person can compare at a glance. */
export function shorten(value: string, keep = 8): string {
  return value.length > keep + 4 ? `${value.slice(0, keep)}…` : value;
}

/** A path with its UUIDs shortened. */
const shortPath = (path: string): string => path.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, (id) => shorten(id));

const pad = (text: string, width: number): string => (text.length >= width ? text : text + ' '.repeat(width - text.length));

/** Renders the summary; `cwd` makes report paths relative. */
export function formatSummary(result: DemoResult, cwd = process.cwd()): string {
  const lines: string[] = [];
  lines.push('Requests');
  const pathWidth = Math.max(...result.steps.map((s) => s.method.length + 1 + shortPath(s.path).length), 10);
  for (const step of result.steps) {
    const target = pad(`${step.method} ${shortPath(step.path)}`, pathWidth);
    const status = step.ok ? `${step.actual}` : `${step.actual} (expected ${step.expected})`;
    lines.push(`  ${step.ok ? '✓' : '✗'} ${target}  ${pad(status, 20)} ${step.title}${step.note ? ` — ${step.note}` : ''}`);
  }

  lines.push('', `CRM sync ${result.settled ? `settled in ${(result.settleMs / 1000).toFixed(1)} s` : 'did NOT settle'}; records in the sandbox CRM`);
  for (const row of result.records) {
    const details = row.found
      ? [
          `version ${row.versions}`,
          row.emailHash ? `emailHash ${shorten(row.emailHash)}` : undefined,
          row.phoneHash ? `phoneHash ${shorten(row.phoneHash)}` : undefined,
          row.attributeKeys?.length ? `attributes ${row.attributeKeys.join(',')}` : undefined,
        ].filter(Boolean).join(', ')
      : 'missing';
    lines.push(`  ${row.ok ? '✓' : '✗'} ${pad(shorten(row.externalId, 13), 14)} ${pad(row.from, 22)} ${details}${row.note && row.found ? ` — ${row.note}` : ''}`);
  }
  if (result.duplicateApplications.length > 0) lines.push(`  ✗ idempotency keys applied twice: ${result.duplicateApplications.map((k) => shorten(k, 20)).join(', ')}`);

  lines.push('', `DLQ: ${result.dlq.length} message(s)${result.dlq.length ? ' (as `npm run dlq:inspect` groups them)' : ''}`);
  const codes = new Map<string, typeof result.dlq>();
  for (const row of result.dlq) codes.set(row.failureCode, [...(codes.get(row.failureCode) ?? []), row]);
  for (const [code, rows] of codes) {
    lines.push(`  ${code}: ${rows.length}`);
    for (const row of rows.slice(0, 5)) {
      const mark = row.verdict === 'expected' ? '✓' : row.verdict === 'earlier' ? '·' : '✗';
      const why = row.verdict === 'expected' ? 'the record the demo made the CRM refuse' : row.verdict === 'earlier' ? 'already there before this run' : 'unexpected';
      lines.push(`    ${mark} ${shorten(row.jobId, 24)}  ${row.failureReason || '(no reason)'}  [${why}]`);
    }
    if (rows.length > 5) lines.push(`    … and ${rows.length - 5} more`);
  }

  if (result.report) {
    lines.push('', `Metrics report (health: ${result.report.health ?? 'n/a'})`, `  ${relative(cwd, result.report.html)}`, `  ${relative(cwd, result.report.markdown)}`);
  }

  lines.push('');
  if (result.ok) {
    lines.push('✓ Everything behaved as the README documents.');
  } else {
    lines.push(`✗ ${result.problems.length} thing(s) did not behave as documented:`);
    for (const problem of result.problems) lines.push(`  - ${problem}`);
  }
  return `${lines.join('\n')}\n`;
}
