/** The repository's own files, for the tests that hold its layout, barrels and dependencies to their rules. */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Every file under `folders` whose name `matches`, as a path relative to `root` (node_modules and dot-folders never walked). */
export function repoFiles(folders: readonly string[], matches: (name: string) => boolean, root: string = process.cwd()): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules' || name.startsWith('.')) continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (matches(name)) files.push(relative(root, path));
    }
  };
  for (const folder of folders) walk(join(root, folder));
  return files;
}
