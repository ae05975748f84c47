/**
 * A barrel (`lib/<folder>/index.ts`, reached as `#lib/<folder>`) is the folder's public
 * surface: it exports only what code outside the folder imports (functions, other lib
 * folders, the local stack, scripts, benchmarks). Tests are not part of the surface: they
 * import internals from the module file (`#lib/<folder>/<module>.ts`).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repoFiles } from '#test/support/repo-files.ts';

const root = process.cwd();

/** The barrels held to the rule: every `index.ts` under lib/ (a test below fails when one is missing here). */
const CHECKED = [
  'auth',
  'config',
  'crm',
  'crm/providers',
  'errors',
  'events',
  'genesys',
  'guests',
  'identity',
  'jobs',
  'lambda',
  'net',
  'net/sqs',
  'observability',
  'pii',
  'prechat',
  'prefill',
  'report',
  'state',
  'sync',
  'validation',
  'webhook',
  'widget',
];

/** The folders whose code may use a barrel (everything but the tests). */
const USERS = ['functions', 'lib', 'local', 'scripts', 'bench'];

/** Every .ts file (no declaration files) under the given folders, relative to the repository. */
const sources = (...folders: string[]): string[] => repoFiles(folders, (name) => name.endsWith('.ts') && !name.endsWith('.d.ts'), root);

const parse = (file: string): ts.SourceFile => ts.createSourceFile(file, readFileSync(join(root, file), 'utf8'), ts.ScriptTarget.Latest, true);

/** The barrel folder (`crm/providers`) an import specifier reaches from `file`, if any. */
function barrelOf(file: string, specifier: string): string | undefined {
  if (specifier.startsWith('#lib/')) {
    const rest = specifier.slice('#lib/'.length);
    return rest.endsWith('.ts') ? undefined : rest;
  }
  if (!specifier.startsWith('.')) return undefined;
  const target = relative(join(root, 'lib'), resolve(root, dirname(file), specifier)).split('\\').join('/');
  const match = /^([a-z-]+(?:\/[a-z-]+)*)\/index\.ts$/.exec(target);
  return match?.[1];
}

/** The names a barrel exports: its `export { ... } from` lists and its own exported declarations. */
function exportedNames(folder: string): string[] {
  const names = new Set<string>();
  for (const statement of parse(`lib/${folder}/index.ts`).statements) {
    if (ts.isExportDeclaration(statement) && statement.exportClause && ts.isNamedExports(statement.exportClause)) {
      for (const element of statement.exportClause.elements) names.add(element.name.text);
    } else if (ts.canHaveModifiers(statement) && ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) {
      if (ts.isVariableStatement(statement)) {
        for (const declaration of statement.declarationList.declarations) if (ts.isIdentifier(declaration.name)) names.add(declaration.name.text);
      } else if ('name' in statement && statement.name && ts.isIdentifier(statement.name as ts.Node)) {
        names.add((statement.name as ts.Identifier).text);
      }
    }
  }
  return [...names].sort();
}

/** For each barrel, the names code outside its folder imports from it (static, re-exported or destructured from `await import`). */
function usedFromOutside(): Map<string, Set<string>> {
  const used = new Map<string, Set<string>>();
  const note = (file: string, specifier: string, names: string[]): void => {
    const folder = barrelOf(file, specifier);
    if (folder === undefined || file.startsWith(`lib/${folder}/`)) return;
    const set = used.get(folder) ?? new Set<string>();
    for (const name of names) set.add(name);
    used.set(folder, set);
  };
  for (const file of sources(...USERS)) {
    const visit = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
        const bindings = node.importClause?.namedBindings;
        note(file, node.moduleSpecifier.text, bindings && ts.isNamedImports(bindings) ? bindings.elements.map((e) => (e.propertyName ?? e.name).text) : []);
      } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        const clause = node.exportClause;
        note(file, node.moduleSpecifier.text, clause && ts.isNamedExports(clause) ? clause.elements.map((e) => (e.propertyName ?? e.name).text) : []);
      } else if (
        ts.isVariableDeclaration(node) &&
        ts.isObjectBindingPattern(node.name) &&
        node.initializer &&
        ts.isAwaitExpression(node.initializer) &&
        ts.isCallExpression(node.initializer.expression) &&
        node.initializer.expression.expression.kind === ts.SyntaxKind.ImportKeyword
      ) {
        const [argument] = node.initializer.expression.arguments;
        if (argument && ts.isStringLiteral(argument)) {
          note(file, argument.text, node.name.elements.map((e) => ((e.propertyName ?? e.name) as ts.Identifier).text));
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(parse(file));
  }
  return used;
}

const used = usedFromOutside();

describe('barrels export the public surface only', () => {
  it('holds every barrel under lib/ to the rule', () => {
    // Act
    const barrels = sources('lib')
      .filter((file) => file.endsWith('/index.ts'))
      .map((file) => file.slice('lib/'.length, -'/index.ts'.length))
      .sort();

    // Assess
    expect(barrels).toEqual([...CHECKED].sort());
  });

  it.each(CHECKED)('#lib/%s exports only what code outside its folder imports', (folder) => {
    // Act
    const outside = used.get(folder) ?? new Set<string>();
    const unused = exportedNames(folder).filter((name) => !outside.has(name));

    // Assess
    expect(unused).toEqual([]);
  });

  it.each(CHECKED)('#lib/%s resolves to its barrel here as in Node (vite reads the "." of "#lib/*.ts" as any character)', async (folder) => {
    // Act
    const barrel: Record<string, unknown> = await import(/* @vite-ignore */ `#lib/${folder}`);

    // Assess: at least one runtime export, and every name the barrel lists
    const runtime = exportedNames(folder).filter((name) => name in barrel);
    expect(runtime.length).toBeGreaterThan(0);
  });
});
