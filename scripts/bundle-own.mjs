// Part of `npm run build`: bulkhead's own modules as one file per entry, loaded when they are there:
// - the CLI (dist/src/cli/main.bundle.js, by bin/bulkhead.js): Node resolves, reads and compiles each of the ~100 ES
//   modules of dist/src on every command; one file saves ~45 ms of the ~170 ms that importing the CLI took;
// - the worker thread (dist/workers/worker.bundle.js, by src/run/slotpool.ts): ~20 ms of each thread's start.
// Packages stay outside (piscina finds its worker file next to itself; mocha and pg are the project's or ours).
// Each bundle sits at the depth of the modules it replaces, so their import.meta.url paths (the worker file,
// package.json, ./mocha-bundle/) resolve as before. What both threads share across copies goes through globalThis
// (the db() hand-off, src/protocol/target.ts). The public API (dist/src/index.js) and bulkhead/register are not
// bundled. (issue 11)
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const common = { bundle: true, packages: 'external', platform: 'node', format: 'esm', target: 'node20', logLevel: 'error' };
await Promise.all([
  build({ ...common, entryPoints: [path.join(dist, 'src', 'cli', 'main.js')], outfile: path.join(dist, 'src', 'cli', 'main.bundle.js') }),
  build({ ...common, entryPoints: [path.join(dist, 'workers', 'worker.js')], outfile: path.join(dist, 'workers', 'worker.bundle.js') }),
]);
