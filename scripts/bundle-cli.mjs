// Part of `npm run build`: the main thread's own modules as one file (dist/src/cli/main.bundle.js), which
// bin/bulkhead.js loads when it is there. Why: Node resolves, reads and compiles each of the ~100 ES modules of
// dist/src on every command; one file saves ~45 ms of the ~170 ms that importing the CLI took (issue 11).
// Packages stay outside (piscina finds its worker file next to itself; mocha and pg are the project's or ours).
// The bundle sits at the depth of every module it replaces (dist/src/<folder>/), so their import.meta.url paths
// (the worker file, package.json) resolve as before. The public API (dist/src/index.js) is not bundled.
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
await build({
  entryPoints: [path.join(root, 'dist', 'src', 'cli', 'main.js')],
  bundle: true,
  packages: 'external',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: path.join(root, 'dist', 'src', 'cli', 'main.bundle.js'),
  logLevel: 'error',
});
