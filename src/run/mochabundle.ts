// A one-file copy of the project's own mocha for the worker threads, built once per copy and kept in
// .bulkhead/cache/ (issue 11). Each worker thread loads mocha afresh, and resolving and reading its ~38 files costs
// ~250 ms of CPU per thread on Node 20; one file costs ~40 ms. bulkhead's own mocha ships prebuilt
// (dist/workers/mocha.bundle.cjs); a project's copy, of whatever supported version, is bundled here with esbuild
// (tsx's) in the background of a run that starts without it, so no run waits for the build and the next one's
// workers load the one file (workers/mocha.ts). A build that fails leaves nothing, and workers load mocha as it is.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { mochaContextName } from './mochaplugin.js';

const require = createRequire(import.meta.url);

interface Esbuild {
  build(options: Record<string, unknown>): Promise<unknown>;
}

let pending: Promise<void> | null = null;

/** The cached bundle of the project's mocha at `dir`, or null (then one is built meanwhile, for the next run). */
export function projectMochaBundle(root: string, dir: string): string | null {
  let version: unknown;
  try {
    version = (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version?: unknown }).version;
  } catch {
    return null;
  }
  if (typeof version !== 'string' || !/^[\w.+-]+$/.test(version)) return null;
  const hash = createHash('sha256').update(dir).digest('hex').slice(0, 12);
  // Named mocha.js (CommonJS by its own package.json), so mocha keeps its frames out of the stacks it reports.
  const file = path.join(root, '.bulkhead', 'cache', `mocha-${version}-${hash}`, 'mocha.js');
  if (existsSync(file)) return file;
  pending ??= build(dir, version, file).catch(() => undefined);
  return null;
}

/** Waits for a bundle build this process started, so that none is cut off half-written when the command ends. */
export async function settleMochaBundle(): Promise<void> {
  await pending;
}

async function build(dir: string, version: string, file: string): Promise<void> {
  const esbuild = loadEsbuild();
  if (esbuild === null) return;
  const entry = ['lib/mocha.cjs', 'lib/mocha.js'].map((f) => path.join(dir, f)).find((f) => existsSync(f));
  if (entry === undefined) return;
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(path.join(path.dirname(file), 'package.json'), '{"type":"commonjs"}\n');
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await esbuild.build({
      stdin: { contents: `module.exports = { version: ${JSON.stringify(version)}, Mocha: require(${JSON.stringify(entry)}) };`, resolveDir: dir, loader: 'js' },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      // Mocha's parallel mode never runs inside a worker, and it finds its own files by path.
      external: ['*parallel-buffered-runner.cjs', '*parallel-buffered-runner.js', '*parallel-buffered-runner'],
      outfile: tmp,
      plugins: [mochaContextName],
      logLevel: 'silent',
      legalComments: 'eof',
    });
    renameSync(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
}

function loadEsbuild(): Esbuild | null {
  for (const from of [() => require('esbuild'), () => createRequire(require.resolve('tsx/package.json'))('esbuild')]) {
    try {
      return from() as Esbuild;
    } catch {
      // Try the next place; without esbuild there is no bundle and nothing else changes.
    }
  }
  return null;
}
