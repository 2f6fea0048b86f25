// Part of `npm run build`: mocha as one file for the worker threads (dist/workers/mocha-bundle/mocha.js).
// Why: each worker thread loads mocha afresh, and resolving and reading its ~38 files costs ~250 ms of CPU per
// thread on Node 20, where the one file costs ~40 ms (issue 11). workers/mocha.ts uses it only when it was built
// from the mocha that is installed. Mocha's parallel mode is never used inside a worker, so it stays out.
import { build } from 'esbuild';
// Built by tsc just before this script runs (npm run build).
import { mochaContextName } from '../dist/src/run/mochaplugin.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
const version = require('mocha/package.json').version;
// Named mocha.js, CommonJS by its own package.json: mocha leaves the frames of a file called mocha.js out of the
// stack traces it reports (as it does for node_modules/mocha/), so the bundle's frames stay out of them too.
const out = path.join(root, 'dist', 'workers', 'mocha-bundle');
mkdirSync(out, { recursive: true });
writeFileSync(path.join(out, 'package.json'), '{"type":"commonjs"}\n');
await build({
  stdin: {
    contents: `module.exports = { version: ${JSON.stringify(version)}, Mocha: require('mocha/lib/mocha.cjs') };`,
    resolveDir: root,
    loader: 'js',
  },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['*parallel-buffered-runner.cjs'],
  outfile: path.join(out, 'mocha.js'),
  plugins: [mochaContextName],
  logLevel: 'error',
  legalComments: 'eof',
});
