// Where the reset rule meets mocha: failures are judged the moment they happen (a broken connection must not
// reach the test's own afterEach hooks), and the transaction state once the test and all its hooks are done.
import type Mocha from 'mocha';
import { mochaInUse } from '../src/protocol/mochacopy.js';
import { discard, enterTest, leaveTest, protocolSettled, settled, snapshot } from './connection.js';
import { endScope } from './transaction.js';
import type { Culprit } from './connection.js';
import { shouldDiscard } from './reset.js';
import type { SessionContext } from './reset.js';
import { checkSessions } from './appcheck.js';
import { resetDatabaseUse } from './usage.js';
import { findDatabaseFault } from '../src/protocol/faults.js';
import { hooksOf, isHook } from './tree.js';
import type { FileTree } from './tree.js';

const HOOK_TIMEOUT_MS = 30_000;

function culpritOf(runnable: Mocha.Runnable, tree: FileTree | null): Culprit {
  if (isHook(runnable)) return { kind: 'hook', title: runnable.fullTitle() };
  const testId = tree?.testId(runnable);
  return { kind: 'test', title: runnable.fullTitle(), ...(testId !== undefined ? { testId } : {}) };
}

/** Judges every failure of a test, a retry attempt or a hook as it is reported. */
export function watchFailures(runner: Mocha.Runner, tree: FileTree | null): void {
  const C = mochaInUse().Mocha.Runner.constants;
  const judge = (runnable: Mocha.Runnable, err: unknown, retry: boolean): void => {
    if (findDatabaseFault(err) !== undefined) watch.failed = true;
    const decision = shouldDiscard({ error: err, connection: snapshot(), atEnd: false });
    // A retry always starts on a fresh connection, so a flaky pass is never an artefact of a dirty session.
    if (retry && decision.reasons.length === 0 && snapshot() !== null) decision.reasons.push('retry');
    if (decision.reasons.length > 0) void discard(decision.reasons, decision.fault, culpritOf(runnable, tree));
  };
  runner.on(C.EVENT_TEST_FAIL, (r: Mocha.Runnable, err: unknown) => judge(r, err, false));
  runner.on(C.EVENT_TEST_RETRY, (r: Mocha.Runnable, err: unknown) => judge(r, err, true));
}

/** What the rule for the application's sessions needs of the running test, kept from the runner's events. */
const watch = { testStart: null as number | null, failed: false, suites: [] as { from: number; to: number | null }[] };

/** A suite's before-all window ends at its first test or inner suite. */
function closeWindow(): void {
  const top = watch.suites[watch.suites.length - 1];
  if (top !== undefined && top.to === null) top.to = performance.now();
}

export function watchSessions(runner: Mocha.Runner): void {
  const C = mochaInUse().Mocha.Runner.constants;
  watch.suites = [];
  runner.on(C.EVENT_SUITE_BEGIN, () => {
    closeWindow();
    watch.suites.push({ from: performance.now(), to: null });
  });
  runner.on(C.EVENT_SUITE_END, () => {
    watch.suites.pop();
  });
  runner.on(C.EVENT_TEST_BEGIN, () => {
    closeWindow();
    watch.testStart = performance.now();
    watch.failed = false;
  });
}

function sessionContext(inTest: boolean): SessionContext {
  return {
    testStart: inTest ? watch.testStart : null,
    suiteWindows: inTest ? watch.suites.flatMap((w) => (w.to === null ? [] : [{ from: w.from, to: w.to }])) : [],
    failedWithDbError: inTest && watch.failed,
  };
}

/**
 * Adds bulkhead's two root hooks: the first beforeEach waits for a discard still in progress (after a failed
 * hook), and the last afterEach checks the connection once the test's own afterEach hooks have run, so a
 * `BEGIN` in beforeEach with `ROLLBACK` in afterEach is not mistaken for a leaked transaction.
 */
export function installResetHooks(root: Mocha.Suite, tree: FileTree | null): void {
  let previous: string | null = null;
  root.beforeEach('bulkhead: settle connection', async function () {
    resetDatabaseUse();
    await settled();
    // Work a finished test left running (an un-awaited query, a timer) may have broken the connection since it
    // was judged: the next test still starts clean, and the rebuild names where the damage came from.
    const late = shouldDiscard({ connection: snapshot(), atEnd: false, beforeTest: true });
    if (late.reasons.length > 0) {
      await discard(late.reasons, late.fault, { kind: 'file', title: previous === null ? '(before the first test)' : `(after test "${previous}")` });
    }
    await enterTest();
  });
  const before = hooksOf(root, 'beforeEach');
  const own = before.pop();
  if (own !== undefined) before.unshift(mark(own));

  root.afterEach('bulkhead: check connection', async function (this: Mocha.Context) {
    await settled();
    leaveTest();
    await endScope();
    await protocolSettled();
    const test = this.currentTest;
    previous = test?.fullTitle() ?? null;
    const decision = shouldDiscard({ connection: snapshot(), atEnd: true });
    if (decision.reasons.length > 0 && test !== undefined) {
      await discard(decision.reasons, decision.fault, culpritOf(test, tree));
    }
    if (test !== undefined) await checkSessions(sessionContext(true), culpritOf(test, tree));
  });
  const after = hooksOf(root, 'afterEach');
  const last = after[after.length - 1];
  if (last !== undefined) mark(last);
}

function mark(hook: Mocha.Hook): Mocha.Hook {
  (hook as Mocha.Hook & { bulkhead?: boolean }).bulkhead = true;
  hook.timeout(HOOK_TIMEOUT_MS);
  return hook;
}

/** After the last test and the file's after-all hooks: a connection left mid-transaction is not handed on. */
export async function settleFile(): Promise<void> {
  await settled();
  await protocolSettled();
  const decision = shouldDiscard({ connection: snapshot(), atEnd: true });
  if (decision.reasons.length > 0) await discard(decision.reasons, decision.fault, { kind: 'file', title: '(after the last test)' });
  await checkSessions(sessionContext(false), { kind: 'file', title: '(after the last test)' });
}
