/**
 * One home per concern: the logger, metrics emitter and metric names come from
 * `#lib/observability` (never from the middy folder), and the metrics report's wing
 * (`lib/report`, with its CloudWatch and S3 clients) is reached by the report function only.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoFiles } from '#test/support/repo-files.ts';

const root = process.cwd();
const aliases = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { imports: Record<string, string> }).imports;

/** Every .ts file under the given folders, relative to the repository (node_modules never walked). */
const sources = (...folders: string[]): string[] => repoFiles(folders, (name) => name.endsWith('.ts'), root);

/** The repository path a specifier names from `file` (package `imports` aliases included); undefined for packages. */
function resolveSpecifier(file: string, specifier: string): string | undefined {
  if (specifier.startsWith('.')) return relative(root, resolve(root, dirname(file), specifier));
  if (!specifier.startsWith('#')) return undefined;
  const exact = aliases[specifier];
  if (exact) return relative(root, resolve(root, exact));
  // As Node picks a pattern: the longest prefix before the `*`, then the longest key (`#lib/*.ts` before `#lib/*`).
  const [key, target] =
    Object.entries(aliases)
      .filter(([key]) => {
        const [prefix = '', suffix = ''] = key.split('*');
        return key.includes('*') && specifier.startsWith(prefix) && specifier.endsWith(suffix) && specifier.length >= prefix.length + suffix.length;
      })
      .sort(([a], [b]) => b.indexOf('*') - a.indexOf('*') || b.length - a.length)[0] ?? [];
  if (!key || !target) return undefined;
  const [prefix = '', suffix = ''] = key.split('*');
  return relative(root, resolve(root, target.replace('*', specifier.slice(prefix.length, specifier.length - suffix.length))));
}

/** Each import of a file: the names it takes (empty for a side-effect or dynamic import) and whether only types. */
function importsOf(file: string): { specifier: string; names: string[]; typeOnly: boolean }[] {
  const text = readFileSync(join(root, file), 'utf8');
  const found: { specifier: string; names: string[]; typeOnly: boolean }[] = [];
  for (const match of text.matchAll(/^(?:import|export)\s+(type\s+)?(?:\{([^}]*)\}|\*\s+as\s+\w+|\*|\w+)\s+from\s+'([^']+)'/gm)) {
    const names = (match[2] ?? '').split(',').map((n) => n.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0]!).filter(Boolean);
    found.push({ specifier: match[3]!, names, typeOnly: match[1] !== undefined });
  }
  for (const match of text.matchAll(/^import\s+'([^']+)'/gm)) found.push({ specifier: match[1]!, names: [], typeOnly: false });
  for (const match of text.matchAll(/(?:const\s+\{([^}]*)\}\s*=\s*)?await\s+import\('([^']+)'\)/g)) {
    found.push({ specifier: match[2]!, names: (match[1] ?? '').split(',').map((n) => n.trim()).filter(Boolean), typeOnly: false });
  }
  return found;
}

const OBSERVABILITY = new Set(['logger', 'metrics', 'redactLogValue', 'serviceName', 'MetricNames', 'MetricDimensions', 'MetricName', 'MetricDimension']);

describe('one home per concern', () => {
  it('every module that logs or emits metrics takes the logger, metrics and metric names from #lib/observability', () => {
    // Prepare
    const files = sources('lib', 'functions', 'local', 'scripts', 'bench', 'test').filter((file) => !file.startsWith('lib/observability/'));

    // Act
    const elsewhere = files.flatMap((file) =>
      importsOf(file)
        .filter(({ names }) => names.some((name) => OBSERVABILITY.has(name)))
        .map(({ specifier }) => ({ file, specifier, target: resolveSpecifier(file, specifier) }))
        .filter(({ target }) => target !== undefined && !target.startsWith('lib/observability/'))
        .map(({ file, specifier }) => `${file}: ${specifier}`),
    );

    // Assess
    expect(elsewhere).toEqual([]);
  });

  it('only the metrics report function reaches the report wing (its CloudWatch and S3 clients stay out of the other bundles)', () => {
    // Prepare
    const functions = sources('functions');
    const reaches = (entry: string): Set<string> => {
      const seen = new Set<string>();
      const pending = [entry];
      while (pending.length > 0) {
        const file = pending.pop()!;
        if (seen.has(file)) continue;
        seen.add(file);
        for (const { specifier, typeOnly } of importsOf(file)) {
          const target = typeOnly ? undefined : resolveSpecifier(file, specifier);
          if (target?.endsWith('.ts')) pending.push(target);
        }
      }
      return seen;
    };

    // Act
    const reachers = functions.filter((entry) => [...reaches(entry)].some((file) => file.startsWith('lib/report/')));

    // Assess
    expect(reachers).toEqual(['functions/scheduled/metrics-report.ts']);
  });

  it('every SendMessageBatch of the suite goes through the one SQS batch sender (lib/net/sqs/batch.ts)', () => {
    // Prepare
    const files = sources('lib', 'functions').filter((file) => file !== 'lib/net/sqs/batch.ts');

    // Act
    const writers = files.filter((file) => readFileSync(join(root, file), 'utf8').includes('SendMessageBatchCommand'));

    // Assess
    expect(writers).toEqual([]);
  });
});
