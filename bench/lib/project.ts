// The throwaway project every bench run works in: a snapshot of the built bulkhead package (so a rebuild of dist/
// in the middle of a bench cannot mix two versions into one set of figures), a node_modules that resolves
// `bulkhead`, `chai` and `pg` as in a user's project, and the support modules the generated specs import.
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MOCHA_BIN = path.join(REPO, 'node_modules', 'mocha', 'bin', 'mocha.js');

export interface Project {
  /** Root of everything the bench writes; removed by remove(). */
  root: string;
  /** The user-style project the runners run in (their cwd). */
  dir: string;
  /** bin/bulkhead.js of the snapshot. */
  bulkheadBin: string;
  /** Scratch files: markers, samples, /usr/bin/time output. */
  out: string;
  remove(): void;
}

// db() for the generated suites, one module for every runner so that the spec files are byte-identical:
// - under bulkhead (BULKHEAD_WORKER is set in its worker threads) it is bulkhead's per-worker db();
// - under plain mocha it is what suites do today: one lazily created pg.Client per process, shared by every test
//   and never rebuilt. It gets a no-op 'error' listener, as careful users add, so a dropped socket fails the
//   tests that use it instead of crashing the process: the mocha side is shown at its best, not its worst.
const DB_SHIM = `import pg from 'pg';
export { started } from './mark.js';

const underBulkhead = process.env.BULKHEAD_WORKER !== undefined;
const bulkhead = underBulkhead ? await import('bulkhead') : null;

let shared = null;
function naiveDb() {
  shared ??= (async () => {
    const client = new pg.Client({ connectionString: process.env.DATABASE_URL, application_name: 'bench:mocha' });
    client.on('error', () => {});
    await client.connect();
    return client;
  })();
  return shared;
}

export async function closeShared() {
  const s = shared;
  shared = null;
  if (s !== null) await (await s).end().catch(() => {});
}

export const db = bulkhead !== null ? bulkhead.db : naiveDb;
`;

// The time-to-first-test marker: the first test a process or worker thread starts appends a wall-clock stamp.
// The bench takes the earliest line and subtracts the moment it spawned the runner.
const MARK = `import { appendFileSync } from 'node:fs';
let marked = false;
export function started() {
  if (marked) return;
  marked = true;
  const file = process.env.BENCH_MARKER;
  if (file) appendFileSync(file, Date.now() + '\\n');
}
`;

// Root hook plugin for plain mocha: serial mocha closes the shared client with a protocol goodbye once, at the
// end, as bulkhead does. Inside a --parallel worker root hooks run per file, so there it does nothing and the
// worker process ends with the client open, which is what mocha --parallel users get today.
const HOOKS = `import { closeShared } from './db.js';
export const mochaHooks = {
  async afterAll() {
    if (process.env.MOCHA_WORKER_ID === undefined) await closeShared();
  },
};
`;

/**
 * Creates the project. Needs a built bulkhead (npm run build); `source` is another build to measure instead (a
 * directory with bin/, dist/ and package.json, such as a patched copy), resolving its dependencies from this repo.
 */
export function createProject(source = REPO): Project {
  const dist = path.join(source, 'dist', 'src', 'cli', 'main.js');
  if (!existsSync(dist)) throw new Error(`bench: ${dist} is missing; run npm run build first`);
  const root = mkdtempSync(path.join(tmpdir(), 'bulkhead-bench-'));
  // 1. Snapshot the package: bin, dist and package.json; its dependencies resolve through the repo's node_modules.
  const pkg = path.join(root, 'pkg');
  for (const part of ['bin', 'dist', 'package.json']) cpSync(path.join(source, part), path.join(pkg, part), { recursive: true });
  symlinkSync(path.join(REPO, 'node_modules'), path.join(pkg, 'node_modules'), 'dir');
  // 2. The user project.
  const dir = path.join(root, 'project');
  mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
  symlinkSync(pkg, path.join(dir, 'node_modules', 'bulkhead'), 'dir');
  for (const dep of ['chai', 'pg']) symlinkSync(path.join(REPO, 'node_modules', dep), path.join(dir, 'node_modules', dep), 'dir');
  writeFileSync(path.join(dir, 'package.json'), '{"type":"module","private":true}\n');
  mkdirSync(path.join(dir, 'support'));
  writeFileSync(path.join(dir, 'support', 'db.js'), DB_SHIM);
  writeFileSync(path.join(dir, 'support', 'mark.js'), MARK);
  writeFileSync(path.join(dir, 'support', 'hooks.js'), HOOKS);
  const out = path.join(root, 'out');
  mkdirSync(out);
  return { root, dir, out, bulkheadBin: path.join(pkg, 'bin', 'bulkhead.js'), remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** Writes generated files (relative path -> content) into the project. */
export function writeFiles(project: Project, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(project.dir, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
}
