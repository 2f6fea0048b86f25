// Mocha's runner events as worker events, streamed the moment they happen; and uncaught errors charged to the file
// (or the finished test) whose code raised them.
import type Mocha from 'mocha';
import { mochaInUse } from '../src/protocol/mochacopy.js';
import type { WorkerEvent } from '../src/protocol/messages.js';
import { serializeError } from '../src/protocol/serialize.js';
import { uncaughtThrough, currentGeneration } from './connection.js';
import { attemptOf, isHook } from './tree.js';
import type { FileTree } from './tree.js';
import { currentOrigin } from './origin.js';
import type { StopReason } from './stop.js';
import { databaseUsed } from './usage.js';
import { noteSetupHook } from './setupfiles.js';

/**
 * Mocha fails whatever runnable is current when an uncaught error arrives. One that a timer of an earlier file on
 * this worker threw belongs to that file: it is reported there, and this file's test goes on. Installed before
 * run() registers `runner.uncaught` on the process.
 */
export function attributeUncaught(runner: Mocha.Runner, emit: (event: WorkerEvent) => void): void {
  const own = runner as Mocha.Runner & { uncaught: (err: unknown) => void; currentRunnable?: Mocha.Runnable };
  const mochaUncaught = own.uncaught;
  const file = currentOrigin();
  let lastEnded: string | null = null;
  runner.on(mochaInUse().Mocha.Runner.constants.EVENT_TEST_END, (test: Mocha.Test) => {
    lastEnded = test.fullTitle();
  });
  own.uncaught = (err: unknown): void => {
    uncaughtThrough(err);
    const origin = currentOrigin();
    if (origin !== undefined && origin !== file) {
      emit({ type: 'file:error', phase: 'async', error: serializeError(err), origin });
      return;
    }
    // No runnable is running (the file's top-level timer fired as the run began): mocha would fake a whole run
    // around a phony runnable, ending this file's run before its tests. The error fails the file; its tests run.
    if (own.currentRunnable === undefined) {
      emit({ type: 'file:error', phase: 'outside', error: serializeError(err) });
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

/** The runner of the file now running and where its events go: the timeout wrapper reports to it. */
let active: { runner: Mocha.Runner & { currentRunnable?: Mocha.Runnable; test?: Mocha.Test }; emit: (event: WorkerEvent) => void } | null = null;
let wrapped = false;

/**
 * `this.timeout(n)` inside a running test or hook changes the timeout in force: the main thread's watchdog must
 * follow it, or it ends the backends of a test that raised its own timeout. Mocha has no event for it, so the
 * setter is wrapped once per thread; it reports only changes to the runnable running now (or to the current test,
 * from its beforeEach hook), never the settings made while a file loads.
 */
function followTimeouts(): void {
  if (wrapped) return;
  wrapped = true;
  const proto = mochaInUse().Mocha.Runnable.prototype as unknown as { timeout(this: Mocha.Runnable, ...args: unknown[]): unknown };
  const original = proto.timeout;
  proto.timeout = function (this: Mocha.Runnable, ...args: unknown[]): unknown {
    const result = original.apply(this, args);
    if (args.length > 0 && active !== null && !(isHook(this) && isOwnHook(this as Mocha.Hook))) {
      const scope = this === active.runner.currentRunnable ? 'current' : this === active.runner.test ? 'test' : null;
      if (scope !== null) active.emit({ type: 'timeout', scope, timeout: this.timeout() });
    }
    return result;
  };
}

export function streamEvents(runner: Mocha.Runner, tree: FileTree, emit: (event: WorkerEvent) => void, stop: StopReason, bail: boolean): void {
  const C = mochaInUse().Mocha.Runner.constants;
  followTimeouts();
  active = { runner, emit };
  runner.once(C.EVENT_RUN_END, () => {
    if (active?.runner === runner) active = null;
  });
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
      emit({ type: 'test:retry', testId: id, attempt: attemptOf(test), duration: test.duration ?? 0, error: serializeError(err), usedDatabase: databaseUsed() });
    }
  });
  runner.on(C.EVENT_TEST_FAIL, (runnable: Mocha.Runnable, err: unknown) => {
    if (bail) stop.bail();
    if (isHook(runnable)) {
      emit({ type: 'hook:fail', hook: tree.hookInfo(runnable as Mocha.Hook), error: noteSetupHook(runnable as Mocha.Hook, serializeError(err)) });
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

export function isOwnHook(hook: Mocha.Hook): boolean {
  return (hook as Mocha.Hook & { bulkhead?: boolean }).bulkhead === true;
}
