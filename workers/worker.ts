// Runs one spec file per task with a fresh Mocha, streaming events as they happen. Imports only protocol types
// from src/; never the pool.
import { threadId } from 'node:worker_threads';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Mocha from 'mocha';
import { workerData as piscinaData } from 'piscina';
import type { CloseResult, ControlMessage, RunResult, RunTask, Task, WorkerData, WorkerEvent } from '../src/protocol/messages.js';
import { ENV_WORKER } from '../src/protocol/messages.js';
import { attach, detach, drainOrphans, installCapture, setMochaRunning, takeExitCalled } from './capture.js';
import { closeConnection, configureConnection, currentGeneration, uncaughtThrough } from './connection.js';
import { installResetHooks, settleFile, watchFailures } from './hooks.js';
import { FileTree, attemptOf, isHook } from './tree.js';
import { loadConfigHooks } from './confighooks.js';
import { serializeError } from '../src/protocol/serialize.js';
import { ensureTypeScript, needsTypeScript } from './typescript.js';
import { selectTests, shuffleSuite } from './order.js';
import { configureChaos, setChaosRunner } from './chaos.js';
import { StopReason } from './stop.js';
import { currentOrigin, drainTimers, withOrigin, withoutOrigin } from './origin.js';

/*
 * Before a worker closes, a test's late timer still gets this long to fire, so its error is reported (serial mocha
 * waits for the event loop to empty; with --exit it does not wait, and neither do we).
 */
const LATE_ERRORS_GRACE_MS = 1000;

const data = piscinaData as WorkerData;
const require = createRequire(import.meta.url);
// Loaded only for --require/--import: it pulls in mocha's watch mode, which costs every worker's start-up.
interface RunHelpers {
  handleRequires(requires: string[]): Promise<{ rootHooks?: Mocha.RootHookObject }>;
}
const runHelpers = (): RunHelpers => require('mocha/lib/cli/run-helpers.cjs') as RunHelpers;

process.env[ENV_WORKER] = String(data.slot);
installCapture();

let stopHook: ((info: { slot: number }) => unknown) | null = null;
let prepared: Promise<Mocha.RootHookObject | undefined> | null = null;
const loadCounts = new Map<string, number>();

/** Once per worker: TypeScript support, bulkhead config hooks, and `--require` modules (root hook plugins). */
function prepare(file: string, target: RunTask['target'], database: RunTask['database']): Promise<Mocha.RootHookObject | undefined> {
  prepared ??= withoutOrigin(async () => {
    if (needsTypeScript([file, ...data.mocha.requires, data.configFile ?? ''])) await ensureTypeScript();
    const hooks = await loadConfigHooks(data.configFile);
    configureConnection({
      slot: data.slot,
      target: target ?? data.target,
      ...(hooks.onConnect !== undefined ? { onConnect: hooks.onConnect } : {}),
      ...(hooks.onReset !== undefined ? { onReset: hooks.onReset } : {}),
      transaction: data.transaction,
      onEvent: (event) => emitCurrent(event.type === 'connect' ? { ...event, slot: data.slot } : event),
    });
    stopHook = hooks.onWorkerStop ?? null;
    await hooks.onWorkerStart?.({ slot: data.slot, db: database ?? process.env['PGDATABASE'] ?? null });
    configureChaos(data.chaos, (fault, title) => emitCurrent({ type: 'chaos', fault, title }));
    if (data.mocha.requires.length === 0) return undefined;
    const plugins = await runHelpers().handleRequires(data.mocha.requires);
    return plugins.rootHooks;
  });
  return prepared;
}

let currentEmit: ((event: WorkerEvent) => void) | null = null;
function emitCurrent(event: WorkerEvent): void {
  currentEmit?.(event);
}

export default async function run(task: Task): Promise<RunResult | CloseResult> {
  if (task.kind === 'close') {
    if (!data.mocha.exit) await drainTimers(LATE_ERRORS_GRACE_MS);
    // onWorkerStop runs only in a worker whose onWorkerStart ran, and before its connection goes.
    let stopError: unknown = null;
    try {
      await stopHook?.({ slot: data.slot });
    } catch (err) {
      stopError = new Error(`the onWorkerStop hook of slot ${data.slot} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    await closeConnection();
    // Errors that surfaced after this worker's last file ended have no file run to report them; the pool does.
    const late = drainOrphans().map(({ file, error }) => ({ origin: file, error: serializeError(error) }));
    if (stopError !== null) late.push({ origin: null, error: serializeError(stopError) });
    return { closed: true, generation: currentGeneration(), late };
  }
  return withOrigin(relative(task.file), () => runFile(task));
}

async function runFile(task: RunTask): Promise<RunResult> {
  const port = task.port as unknown as import('node:worker_threads').MessagePort;
  const emit = (event: WorkerEvent): void => port.postMessage(event);
  currentEmit = emit;
  const stop = new StopReason();
  attach({ emit, file: relative(task.file), onExit: (code) => stop.exitCalled(code) });
  emit({ type: 'file:begin', slot: data.slot, threadId });
  let mocha: Mocha | null = null;
  try {
    // The slot's database settings go in before anything of the user's loads (requires, config, specs).
    Object.assign(process.env, task.env);
    const rootHooks = await prepare(task.file, task.target, task.database);
    mocha = createMocha(rootHooks);
    const loaded = await loadFile(mocha, task, emit);
    if (loaded === null || task.mode === 'collect') return await finish(task.file, mocha);
    await runMocha(mocha, loaded, emit, port, stop);
    await settleFile();
    if (stop.reason !== null) emit({ type: 'file:stopped', reason: stop.reason });
  } catch (err) {
    emit({ type: 'file:error', phase: 'run', error: serializeError(err) });
  }
  return finish(task.file, mocha);
}

async function finish(file: string, mocha: Mocha | null): Promise<RunResult> {
  // Give errors scheduled by the file's last test a turn of the event loop to surface while the file is current.
  await new Promise<void>((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => setImmediate(resolve));
  try {
    mocha?.dispose();
  } catch {
    // dispose() throws while a runner is still referenced; the instance is dropped either way.
  }
  detach();
  currentEmit = null;
  return { file, recycle: takeExitCalled(), generation: currentGeneration() };
}

function createMocha(rootHooks: Mocha.RootHookObject | undefined): Mocha {
  const o = data.mocha;
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
  return new Mocha(options);
}

// Mocha insists on a reporter; events are streamed by our own listeners instead.
function SilentReporter(): void {}

function relative(file: string): string {
  return path.relative(data.root, file).split(path.sep).join('/');
}

/**
 * A file loaded a second time on this worker (after the .only probe, repeat, replay) must run its describe()
 * calls again. Mocha loads with require() first, and require(esm) keeps its module even when require.cache is
 * cleared, so a repeat load imports a fresh module instance under a distinct URL instead.
 */
async function loadAgain(mocha: Mocha, file: string, count: number): Promise<void> {
  const C = Mocha.Suite.constants;
  (mocha as unknown as { lazyLoadFiles(lazy: boolean): void }).lazyLoadFiles(true);
  mocha.suite.emit(C.EVENT_FILE_PRE_REQUIRE, globalThis, file, mocha);
  delete require.cache[file];
  const url = pathToFileURL(file);
  url.searchParams.set('bulkhead-load', String(count));
  const module: unknown = await import(url.href);
  mocha.suite.emit(C.EVENT_FILE_REQUIRE, module, file, mocha);
  mocha.suite.emit(C.EVENT_FILE_POST_REQUIRE, globalThis, file, mocha);
}

async function loadFile(mocha: Mocha, task: RunTask, emit: (event: WorkerEvent) => void): Promise<FileTree | null> {
  const file = task.file;
  // --file setup files load before the spec, into the same Mocha, as in serial mocha: their root hooks apply.
  const paths = [...data.mocha.files, file];
  try {
    for (const p of paths) {
      const count = (loadCounts.get(p) ?? 0) + 1;
      loadCounts.set(p, count);
      mocha.files = [p];
      if (count === 1) await (mocha as unknown as { loadFilesAsync(): Promise<void> }).loadFilesAsync();
      else await loadAgain(mocha, p, count);
    }
    mocha.files = paths;
  } catch (err) {
    // Tests the file declared before it failed (a throw or process.exit() after its describe blocks) are not
    // lost: announced first, they are reported as not run.
    // mocha's require() then import() may each have run the describe blocks, declaring every suite twice: a test
    // is announced once per place in its suite (two tests of one suite may share a title; two loads do not share
    // a suite).
    const declared = new FileTree(mocha.suite, undefined, false);
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
  const tree = new FileTree(mocha.suite, grep, opts.invert === true);
  emit({ type: 'file:loaded', suites: tree.suites, tests: tree.tests, hasOnly });
  return tree;
}

function runMocha(mocha: Mocha, tree: FileTree, emit: (event: WorkerEvent) => void, port: import('node:worker_threads').MessagePort, stop: StopReason): Promise<void> {
  return new Promise<void>((resolve) => {
    installResetHooks(mocha.suite, tree);
    // Listeners go on in the reporter's constructor, the one place mocha hands out its runner before it starts.
    mocha.reporter(function BulkheadStream(r: Mocha.Runner) {
      attributeUncaught(r, emit);
      // Under mocha the reporter's Base listeners set test.err and test.speed as a test fails or passes, before
      // its afterEach hooks run; specs read this.currentTest.err there. A Base keeps that true in the worker.
      // It also turns the failure's actual and expected values into text, within maxDiffSize as in mocha.
      const size = data.mocha.maxDiffSize;
      new Mocha.reporters.Base(r, (size !== undefined ? { reporterOption: { maxDiffSize: size } } : {}) as Mocha.MochaOptions);
      setChaosRunner(r);
      stop.watch(r);
      streamEvents(r, tree, emit, stop);
      watchFailures(r, tree);
    } as unknown as string);
    setMochaRunning(true);
    const runner = mocha.run(() => {
      setMochaRunning(false);
      // Mocha keeps its 'uncaughtException' listener after a run and rethrows from it, which is fatal to the
      // thread; from here on, capture.ts attributes stray errors to the file instead.
      runner.dispose();
      port.off('message', onControl);
      resolve();
    });
    const onControl = (message: ControlMessage): void => {
      if (message.type === 'abort') runner.abort();
    };
    port.on('message', onControl);
  });
}

/**
 * Mocha fails whatever runnable is current when an uncaught error arrives. One that a timer of an earlier file on
 * this worker threw belongs to that file: it is reported there, and this file's test goes on. Installed before
 * run() registers `runner.uncaught` on the process.
 */
function attributeUncaught(runner: Mocha.Runner, emit: (event: WorkerEvent) => void): void {
  const own = runner as Mocha.Runner & { uncaught: (err: unknown) => void; currentRunnable?: Mocha.Runnable };
  const mochaUncaught = own.uncaught;
  const file = currentOrigin();
  let lastEnded: string | null = null;
  runner.on(Mocha.Runner.constants.EVENT_TEST_END, (test: Mocha.Test) => {
    lastEnded = test.fullTitle();
  });
  own.uncaught = (err: unknown): void => {
    uncaughtThrough(err);
    const origin = currentOrigin();
    if (origin !== undefined && origin !== file) {
      emit({ type: 'file:error', phase: 'async', error: serializeError(err), origin });
      return;
    }
    // Between a test's end and the next test, mocha's current runnable is the passed test (mocha then aborts the
    // whole file) or one of bulkhead's own hooks (mocha would fail the hook, and stop the file too). The error is
    // the finished test's late work: it fails the run, attributed to that test, and the file goes on.
    const current = own.currentRunnable;
    if (current !== undefined && lastEnded !== null && (current.isPassed() || (isHook(current) && isOwnHook(current as Mocha.Hook)))) {
      emit({ type: 'file:error', phase: 'async', error: serializeError(err), after: lastEnded });
      return;
    }
    mochaUncaught(err);
  };
}

function streamEvents(runner: Mocha.Runner, tree: FileTree, emit: (event: WorkerEvent) => void, stop: StopReason): void {
  const C = Mocha.Runner.constants;
  const failures = new WeakMap<Mocha.Runnable, unknown>();
  const ended = new WeakSet<Mocha.Runnable>();
  runner.on(C.EVENT_SUITE_BEGIN, (suite: Mocha.Suite) => {
    const id = tree.suiteId(suite);
    if (!suite.root && id !== undefined) emit({ type: 'suite:begin', suiteId: id });
  });
  runner.on(C.EVENT_SUITE_END, (suite: Mocha.Suite) => {
    const id = tree.suiteId(suite);
    if (!suite.root && id !== undefined) emit({ type: 'suite:end', suiteId: id });
  });
  runner.on(C.EVENT_HOOK_BEGIN, (hook: Mocha.Hook) => {
    if (isOwnHook(hook)) return;
    stop.running(hook.title);
    emit({ type: 'hook:begin', hook: tree.hookInfo(hook), timeout: hook.timeout() });
  });
  runner.on(C.EVENT_HOOK_END, (hook: Mocha.Hook) => {
    if (!isOwnHook(hook)) emit({ type: 'hook:end', hook: tree.hookInfo(hook) });
  });
  runner.on(C.EVENT_TEST_BEGIN, (test: Mocha.Test) => {
    stop.running(test.fullTitle());
    const id = tree.testId(test);
    if (id !== undefined) emit({ type: 'test:begin', testId: id, timeout: test.timeout(), attempt: attemptOf(test) });
  });
  runner.on(C.EVENT_TEST_RETRY, (test: Mocha.Test, err: unknown) => {
    const id = tree.testId(test);
    tree.markRetry(test);
    if (id !== undefined) {
      emit({ type: 'test:retry', testId: id, attempt: attemptOf(test), duration: test.duration ?? 0, error: serializeError(err) });
    }
  });
  runner.on(C.EVENT_TEST_FAIL, (runnable: Mocha.Runnable, err: unknown) => {
    if (data.mocha.bail) stop.bail();
    if (isHook(runnable)) {
      emit({ type: 'hook:fail', hook: tree.hookInfo(runnable as Mocha.Hook), error: serializeError(err) });
    } else if (ended.has(runnable)) {
      // An error for a test that already passed (a throw in its setImmediate or timer): its outcome is out.
      stop.lateError(runnable.fullTitle());
      emit({ type: 'file:error', phase: 'async', error: serializeError(err), after: runnable.fullTitle() });
    } else {
      failures.set(runnable, err);
    }
  });
  runner.on(C.EVENT_TEST_END, (test: Mocha.Test) => {
    ended.add(test);
    const id = tree.testId(test);
    if (id === undefined) return;
    // Under --forbid-pending mocha fails a pending test (state 'failed') and still reports it as pending.
    const state = test.state === 'failed' ? 'failed' : test.isPending() ? 'pending' : 'passed';
    const err = failures.get(test);
    emit({
      type: 'test:end',
      testId: id,
      state,
      duration: test.duration ?? 0,
      attempt: attemptOf(test),
      generation: currentGeneration(),
      slow: test.slow(),
      ...(state === 'failed' && err !== undefined ? { error: serializeError(err) } : {}),
    });
  });
}

function isOwnHook(hook: Mocha.Hook): boolean {
  return (hook as Mocha.Hook & { bulkhead?: boolean }).bulkhead === true;
}
