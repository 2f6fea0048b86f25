// The import graph of src/ and workers/, read from the sources: relative imports only (packages are leaves).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { REPO } from './fixture.js';

export interface SourceFile {
  /** Repository-relative path with forward slashes, such as `src/run/session.ts`. */
  rel: string;
  lines: number;
  /** Repository-relative paths of the files it imports (value and type imports alike). */
  imports: string[];
}

// `import x from '…'`, `import type …`, `export … from '…'`, a bare `import '…'`, and `import('…')`.
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s*'(\.{1,2}\/[^']+)'|(?:^|\n)\s*import\s*'(\.{1,2}\/[^']+)'|import\(\s*'(\.{1,2}\/[^']+)'\s*\)/g;

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.ts$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

export function sourceFiles(): SourceFile[] {
  const files = ['src', 'workers'].flatMap((d) => walk(path.join(REPO, d)));
  return files.map((file) => {
    const text = readFileSync(file, 'utf8');
    const imports: string[] = [];
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (spec === undefined) continue;
      const target = path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts');
      imports.push(path.relative(REPO, target).split(path.sep).join('/'));
    }
    return { rel: path.relative(REPO, file).split(path.sep).join('/'), lines: text.split('\n').length, imports };
  });
}

/** Every cycle of the graph, each as the list of files around it (found once, from its smallest member). */
export function cycles(files: readonly SourceFile[]): string[][] {
  const graph = new Map(files.map((f) => [f.rel, f.imports]));
  const found = new Map<string, string[]>();
  const visit = (start: string, node: string, trail: string[], seen: Set<string>): void => {
    for (const next of graph.get(node) ?? []) {
      if (next === start) {
        const cycle = [...trail];
        const key = [...cycle].sort().join(' ');
        if (!found.has(key)) found.set(key, cycle);
      } else if (!seen.has(next) && next > start) {
        seen.add(next);
        visit(start, next, [...trail, next], seen);
      }
    }
  };
  for (const f of files) visit(f.rel, f.rel, [f.rel], new Set([f.rel]));
  return [...found.values()];
}
