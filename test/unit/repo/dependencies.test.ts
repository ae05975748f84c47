/**
 * The declared dependencies are the ones the code uses: a runtime dependency is imported by
 * a function or by `lib/` (what the bundles hold), and every development dependency is
 * imported by the local stack, scripts, benchmarks or tests, or named as a plugin or tool.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoFiles } from '#test/support/repo-files.ts';

const root = process.cwd();
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
};

/** The text of every .ts, .js and .mjs file under the given folders (node_modules never walked). */
const sources = (...folders: string[]): string[] => repoFiles(folders, (name) => /\.(ts|js|mjs)$/.test(name)).map((file) => readFileSync(join(root, file), 'utf8'));

/** Whether some source imports `name` (or one of its subpaths). */
const imports = (texts: string[], name: string): boolean => {
  const escaped = name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const pattern = new RegExp(`(from\\s+|import\\(\\s*|import\\s+)['"]${escaped}(/[^'"]*)?['"]`);
  return texts.some((text) => pattern.test(text));
};

describe('declared dependencies', () => {
  it('every runtime dependency is imported by a function or by lib/', () => {
    // Prepare
    const runtime = sources('functions', 'lib');

    // Act
    const unused = Object.keys(manifest.dependencies).filter((name) => !imports(runtime, name));

    // Assess
    expect(unused).toEqual([]);
  });

  it('every development dependency is imported by the tooling or tests, or named as a plugin or tool', () => {
    // Prepare
    const tooling = sources('local', 'scripts', 'bench', 'test', 'functions', 'lib').concat(
      readdirSync(root)
        .filter((name) => /^vitest.*\.ts$/.test(name))
        .map((name) => readFileSync(join(root, name), 'utf8')),
    );
    const named = [readFileSync(join(root, 'serverless.yml'), 'utf8'), readFileSync(join(root, 'tsconfig.json'), 'utf8'), JSON.stringify(manifest.scripts)].join('\n');
    // Tools run by name (the compiler, the test runner, the TypeScript runner) and type packages.
    const tools = new Set(['typescript', 'vitest', 'tsx', 'esbuild', 'osls']);

    // Act
    const unused = Object.keys(manifest.devDependencies).filter(
      (name) => !tools.has(name) && !name.startsWith('@types/') && !imports(tooling, name) && !named.includes(name),
    );

    // Assess
    expect(unused).toEqual([]);
  });
});
