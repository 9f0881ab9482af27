import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { repoRoot } from './paths.js';

/*
 * A package's public API as its consumers see it: every name each `exports` entry of its
 * package.json offers (from the entry's declaration file), types marked "type ".
 */

type ExportMap = Record<string, string | { types?: string; default?: string }>;

/** Entry -> sorted names ("type X" for type-only exports) for every typed entry of a workspace package. */
export function publicApi(packageDir: string): Record<string, string[]> {
  const dir = path.join(repoRoot, packageDir);
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { exports: ExportMap };
  const entries = Object.entries(pkg.exports).flatMap(([key, target]) =>
    typeof target === 'object' && target.types ? [[key, path.join(dir, target.types)] as const] : [],
  );
  const options = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    noLib: true,
    types: [],
  };
  // Only the package's own declarations matter for which names it exports and whether they are
  // values: leaving dependencies unresolved keeps this fast (they would be read whole otherwise).
  const host = ts.createCompilerHost(options);
  const outside = (f: string) =>
    f.includes(`${path.sep}node_modules${path.sep}`) && !f.includes(`${path.sep}@impartial${path.sep}`);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (f) => !outside(f) && fileExists(f);
  const program = ts.createProgram(
    entries.map(([, file]) => file),
    options,
    host,
  );
  const checker = program.getTypeChecker();
  const out: Record<string, string[]> = {};
  for (const [key, file] of entries) {
    const source = program.getSourceFile(file);
    const module = source && checker.getSymbolAtLocation(source);
    if (!module) throw new Error(`${file}: no declarations (build the package first)`);
    out[key] = checker
      .getExportsOfModule(module)
      .map((s) => {
        const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
        return target.flags & ts.SymbolFlags.Value ? s.name : `type ${s.name}`;
      })
      .sort((a, b) => a.replace(/^type /, '').localeCompare(b.replace(/^type /, '')));
  }
  return out;
}
