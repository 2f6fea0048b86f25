// An esbuild plugin for bundling mocha into one file (scripts/bundle-mocha.mjs at build time, src/run/mochabundle.ts
// for a project's own copy). A bundle has one top-level scope, where mocha's exported Context class meets the local
// `function Context() {}` that Suite builds each test's `this` from; esbuild renames the local one to Context2, and
// every stack frame of a test then reads `Context2.<anonymous>` where serial mocha prints `Context.<anonymous>`.
// A function named by the key it is stored under keeps the name "Context" whatever its variable is called.
import { readFile } from 'node:fs/promises';

const LOCAL_CONTEXT = 'function Context() {}';
const NAMED_BY_KEY = 'const Context = { Context: function () {} }.Context;';

interface PluginBuild {
  onLoad(options: { filter: RegExp }, callback: (args: { path: string }) => Promise<{ contents: string; loader: 'js' } | undefined>): void;
}

export const mochaContextName = {
  name: 'mocha-context-name',
  setup(build: PluginBuild): void {
    build.onLoad({ filter: /[\\/]mocha[^\\/]*[\\/]lib[\\/]suite\.c?js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      // Another mocha whose suite.js reads otherwise is bundled as it is: only the frame's name is at stake.
      return source.includes(LOCAL_CONTEXT) ? { contents: source.replace(LOCAL_CONTEXT, NAMED_BY_KEY), loader: 'js' } : undefined;
    });
  },
};
