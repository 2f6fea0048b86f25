// The mocha a worker thread runs specs with, when it is bulkhead's own copy. Loading mocha's ~38 files costs each
// thread ~250 ms of CPU on Node 20, mostly module resolution and reading; the prebuilt one-file copy
// (dist/workers/mocha.bundle.cjs, made by scripts/bundle-mocha.mjs at build time) costs ~40 ms. It is registered in
// the module cache under the installed mocha's own path, so a spec's `import { describe } from 'mocha'` or a plugin's
// require('mocha') gets this very instance (mocha's named exports work only on the instance that loads the files),
// and so does mochaInUse(). Only when built from the installed version and nothing has loaded mocha yet; a
// project's own mocha (src/protocol/mochacopy.ts) is loaded from its files as it is.
import Module, { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

interface Bundle {
  version: string;
}

/** Puts the bundle in the module cache when `dir` (the copy this worker runs) is bulkhead's own mocha. */
export function preferBundle(dir: string): void {
  const installed = require.resolve('mocha/lib/mocha.cjs');
  if (path.dirname(path.dirname(installed)) !== dir) return;
  const cache = (Module as unknown as { _cache: Record<string, Module | undefined> })._cache;
  if (cache[installed] !== undefined) return;
  let bundle: Bundle & { Mocha: unknown };
  try {
    bundle = require('./mocha.bundle.cjs') as Bundle & { Mocha: unknown };
  } catch {
    // Running from source (no build): the installed mocha.
    return;
  }
  if (bundle.version !== (require('mocha/package.json') as { version: string }).version) return;
  const entry = new Module(installed);
  entry.filename = installed;
  entry.paths = (Module as unknown as { _nodeModulePaths(from: string): string[] })._nodeModulePaths(installed);
  entry.exports = bundle.Mocha;
  entry.loaded = true;
  cache[installed] = entry;
}
