// The mocha a worker thread runs specs with, as one file. Loading mocha's ~38 files costs each thread ~250 ms of
// CPU on Node 20, mostly module resolution and reading; one file costs ~40 ms. bulkhead's own copy ships prebuilt
// (dist/workers/mocha-bundle/mocha.js, made by scripts/bundle-mocha.mjs at build time); a project's own copy is bundled
// by the main thread on its first run (src/run/mochabundle.ts). The bundle is registered in the module cache under
// the copy's own path, so a spec's `import { describe } from 'mocha'` or a plugin's require('mocha') gets this very
// instance (mocha's named exports work only on the instance that loads the files), and so does mochaInUse(). Only
// when the bundle was built from the same version and nothing has loaded mocha yet.
import { existsSync, readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

interface Bundle {
  version: string;
}

/**
 * Puts a one-file copy of mocha in the module cache under the path the worker will load `dir`'s mocha from: the
 * prebuilt bundle when `dir` is bulkhead's own mocha (and of its version), else `cached` (the project's copy bundled
 * by src/run/mochabundle.ts on an earlier run), else nothing.
 */
export function preferBundle(dir: string, cached: string | null = null): void {
  const own = require.resolve('mocha/lib/mocha.cjs');
  const isOwn = path.dirname(path.dirname(own)) === dir;
  const target = isOwn ? own : ['lib/mocha.cjs', 'lib/mocha.js'].map((f) => path.join(dir, f)).find((f) => existsSync(f));
  if (target === undefined) return;
  const cache = (Module as unknown as { _cache: Record<string, Module | undefined> })._cache;
  if (cache[target] !== undefined) return;
  let bundle: Bundle & { Mocha: unknown };
  try {
    if (isOwn) bundle = require('./mocha-bundle/mocha.js') as Bundle & { Mocha: unknown };
    else if (cached !== null) bundle = require(cached) as Bundle & { Mocha: unknown };
    else return;
  } catch {
    // Running from source (no build), or a cached bundle that went away: mocha's own files.
    return;
  }
  const version = (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version?: unknown }).version;
  if (bundle.version !== version) return;
  const entry = new Module(target);
  entry.filename = target;
  entry.paths = (Module as unknown as { _nodeModulePaths(from: string): string[] })._nodeModulePaths(target);
  entry.exports = bundle.Mocha;
  entry.loaded = true;
  cache[target] = entry;
}
