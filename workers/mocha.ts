// The mocha a worker thread runs specs with. Loading mocha's ~38 files costs each thread ~250 ms of CPU on Node 20,
// mostly module resolution and reading; the prebuilt one-file copy (dist/workers/mocha.bundle.cjs, made by
// scripts/bundle-mocha.mjs at build time) costs ~40 ms. It is registered in the module cache under the installed
// mocha's own path, so a spec's `import { describe } from 'mocha'` or a plugin's require('mocha') gets this very
// instance (mocha's named exports work only on the instance that loads the files). Used only in a worker thread,
// only when built from the installed version and nothing has loaded mocha yet; otherwise the installed mocha.
import Module, { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import type Mocha from 'mocha';

const require = createRequire(import.meta.url);

interface Bundle {
  version: string;
  Mocha: typeof Mocha;
}

function load(): typeof Mocha {
  const installed = require.resolve('mocha/lib/mocha.cjs');
  const cache = (Module as unknown as { _cache: Record<string, Module | undefined> })._cache;
  if (isMainThread || cache[installed] !== undefined) return require(installed) as typeof Mocha;
  let bundle: Bundle;
  try {
    bundle = require('./mocha.bundle.cjs') as Bundle;
  } catch {
    // Running from source (no build): the installed mocha.
    return require(installed) as typeof Mocha;
  }
  if (bundle.version !== (require('mocha/package.json') as { version: string }).version) return require(installed) as typeof Mocha;
  const entry = new Module(installed);
  entry.filename = installed;
  entry.paths = (Module as unknown as { _nodeModulePaths(from: string): string[] })._nodeModulePaths(installed);
  entry.exports = bundle.Mocha;
  entry.loaded = true;
  cache[installed] = entry;
  return bundle.Mocha;
}

export const MochaRuntime: typeof Mocha = load();
