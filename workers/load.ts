// A spec file into a fresh Mocha: --file setup files first, a second load of the same file as a fresh module, and
// the tests a file declared before it failed to load announced so they are reported as not run.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type Mocha from 'mocha';
import { mochaInUse } from '../src/protocol/mochacopy.js';
import type { RunTask, WorkerEvent, WorkerMochaOptions } from '../src/protocol/messages.js';
import { serializeError } from '../src/protocol/serialize.js';
import { FileTree } from './tree.js';
import { DefinitionLines } from './lines.js';
import { selectTests, shuffleSuite } from './order.js';
import { markSetupHooks, rootHooks } from './setupfiles.js';
import { oncePerWorker } from './setuponce.js';

const require = createRequire(import.meta.url);
const loadCounts = new Map<string, number>();

export function createMocha(o: WorkerMochaOptions, rootHooks: Mocha.RootHookObject | undefined): Mocha {
  const options: Mocha.MochaOptions & Record<string, unknown> = {
    ui: o.ui as Mocha.Interface,
    timeout: o.timeout,
    slow: o.slow,
    // mocha leaves retries unset (test.retries() is -1) unless asked; 0 is the config's "not given".
    ...(o.retries > 0 ? { retries: o.retries } : {}),
    invert: o.invert,
    bail: o.bail,
    forbidPending: o.forbidPending,
    asyncOnly: o.asyncOnly,
    checkLeaks: o.checkLeaks,
    fullTrace: o.fullTrace,
    dryRun: o.dryRun,
    // Mocha's constructor reads `global` (the CLI's --global, alias --globals); `globals` would be ignored.
    global: o.globals,
    color: false,
    reporter: SilentReporter as unknown as string,
  };
  if (o.grep !== undefined) options.grep = o.grep;
  if (o.fgrep !== undefined) options.fgrep = o.fgrep;
  if (rootHooks !== undefined) options.rootHooks = rootHooks;
  return new (mochaInUse().Mocha)(options);
}

// Mocha insists on a reporter; events are streamed by our own listeners instead.
function SilentReporter(): void {}

/**
 * A file loaded a second time on this worker (after the .only probe, repeat, replay) must run its describe()
 * calls again. Mocha loads with require() first, and require(esm) keeps its module even when require.cache is
 * cleared, so a repeat load imports a fresh module instance under a distinct URL instead.
 */
async function loadAgain(mocha: Mocha, file: string, count: number): Promise<void> {
  const C = mochaInUse().Mocha.Suite.constants;
  (mocha as unknown as { lazyLoadFiles(lazy: boolean): void }).lazyLoadFiles(true);
  mocha.suite.emit(C.EVENT_FILE_PRE_REQUIRE, globalThis, file, mocha);
  delete require.cache[file];
  const url = pathToFileURL(file);
  url.searchParams.set('bulkhead-load', String(count));
  const module: unknown = await import(url.href);
  mocha.suite.emit(C.EVENT_FILE_REQUIRE, module, file, mocha);
  mocha.suite.emit(C.EVENT_FILE_POST_REQUIRE, globalThis, file, mocha);
}

export async function loadFile(mocha: Mocha, task: RunTask, o: Pick<WorkerMochaOptions, 'files' | 'forbidOnly'>, emit: (event: WorkerEvent) => void, setupHooks: 'per-worker' | 'per-file' = 'per-worker'): Promise<FileTree | null> {
  const file = task.file;
  // --file setup files load before the spec, into the same Mocha, as in serial mocha: their root hooks apply.
  const paths = [...o.files, file];
  const lines = new DefinitionLines(mocha.suite, file);
  try {
    for (const p of paths) {
      const count = (loadCounts.get(p) ?? 0) + 1;
      loadCounts.set(p, count);
      mocha.files = [p];
      const before = p === file ? null : rootHooks(mocha.suite);
      if (count === 1) await (mocha as unknown as { loadFilesAsync(): Promise<void> }).loadFilesAsync();
      else await loadAgain(mocha, p, count);
      if (before !== null && setupHooks === 'per-file') markSetupHooks(mocha.suite, before, p, task.mode === 'run');
      if (before !== null && setupHooks === 'per-worker' && task.mode === 'run') {
        const now = rootHooks(mocha.suite);
        oncePerWorker(mocha.suite, new Set([...now].filter((h) => !before.has(h))), p, task.file);
      }
    }
    mocha.files = paths;
    // Not mocha's own forbidOnly option, which throws as .only is declared: the probe must still see .only to name
    // the files. A file it missed is caught here, before any of its tests runs.
    if (task.mode === 'run' && o.forbidOnly && (mocha.suite as unknown as { hasOnly(): boolean }).hasOnly()) {
      throw new Error('`.only` forbidden by --forbid-only');
    }
  } catch (err) {
    // Tests the file declared before it failed (a throw or process.exit() after its describe blocks) are not
    // lost: announced first, they are reported as not run.
    // mocha's require() then import() may each have run the describe blocks, declaring every suite twice: a test
    // is announced once per place in its suite (two tests of one suite may share a title; two loads do not share
    // a suite).
    const declared = new FileTree(mocha.suite, undefined, false, lines);
    const places = new Map<string, number>();
    const seen = new Set<string>();
    const tests = declared.tests.filter((t) => {
      const title = `${t.suiteId}\u0000${t.titlePath.join('\u0000')}`;
      const place = (places.get(title) ?? 0) + 1;
      places.set(title, place);
      const key = `${t.titlePath.join('\u0000')}\u0000${place}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    if (tests.length > 0) emit({ type: 'file:loaded', suites: declared.suites, tests, hasOnly: false });
    emit({ type: 'file:error', phase: 'load', error: serializeError(err) });
    return null;
  }
  const suite = mocha.suite as Mocha.Suite & { hasOnly(): boolean; filterOnly(): void };
  const hasOnly = suite.hasOnly();
  if (hasOnly) suite.filterOnly();
  if (task.shuffleSeed !== undefined) shuffleSuite(mocha.suite, task.shuffleSeed);
  if (task.select !== undefined) selectTests(mocha.suite, task.select);
  const opts = mocha.options as { grep?: RegExp | string; invert?: boolean };
  const grep = opts.grep === undefined ? undefined : opts.grep instanceof RegExp ? opts.grep : new RegExp(opts.grep);
  const tree = new FileTree(mocha.suite, grep, opts.invert === true, lines);
  emit({ type: 'file:loaded', suites: tree.suites, tests: tree.tests, hasOnly });
  return tree;
}
