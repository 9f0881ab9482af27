import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding the workspace root package.json (the one with "workspaces"), found upwards from this file. */
function findRepoRoot(start: string): string {
  let dir = start;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const json = JSON.parse(readFileSync(pkg, 'utf8')) as { workspaces?: unknown };
        if (json.workspaces) return dir;
      } catch {
        // not JSON: keep looking upwards
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json with "workspaces" above ${start}`);
    dir = parent;
  }
}

export const repoRoot = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)));

/** The shared data folder next to the repository (../shared/data). */
export const sharedData = path.join(repoRoot, '..', 'shared', 'data');

/** A path under sharedData. */
export const dataFile = (...parts: string[]): string => path.join(sharedData, ...parts);

/** Undefined when every file exists, else a skip reason for node:test's `skip` option. */
export function skipUnlessExists(...files: string[]): string | undefined {
  const missing = files.filter((f) => !existsSync(f));
  return missing.length ? `test data missing: ${missing.join(', ')}` : undefined;
}
