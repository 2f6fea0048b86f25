// One file on one slot, seen from the main thread: turns worker events into run events, knows which test is
// running (for the watchdog and for crashes), and accounts for every planned test when the file ends.
import type { SerializedError, TestInfo, WorkerEvent } from '../protocol/messages.js';
import type { EventBus, RunEvent } from './events.js';
import { afterSecondSignal } from './interrupts.js';
import type { SlotWorker } from './slotpool.js';
import { runKey } from '../plan/schedule.js';

export interface Running {
  what: string;
  testId?: string;
  timeout: number;
}

/** Where a file run's events go. */
export interface FileRunOutput {
  bus: EventBus;
  /** A second signal is cutting the run off: afterSecondSignal rewrites what the cut does to the running tests. */
  cutOff(): boolean;
  /** Why the cut-off tests are not run (a second signal, or the shutdown grace ran out). */
  cutReason?(): string;
}

/** A failed hook: mocha skips the tests of its suite and of the suites inside it. */
interface HookFailure {
  title: string;
  suiteId: string;
  /** The hook failed because it called process.exit(). */
  exit: boolean;
}

export class FileRun {
  private tests: TestInfo[] = [];
  private readonly parents = new Map<string, string | null>();
  private readonly ended = new Set<string>();
  /** Suites begun and not yet ended, innermost last: a file that stops early has them closed for it. */
  private readonly open: string[] = [];
  private running: Running | null = null;
  /** The test between its test:begin and test:end: its own beforeEach hooks run inside that span. */
  private currentTest: Running | null = null;
  private readonly hookFailures: HookFailure[] = [];
  /** Where process.exit() was called, phrased for a reason ("in the test ...", "at the top level of ..."). */
  private exitCall: { code: number; where: string } | null = null;
  private stopReason: string | null = null;
  private loadFailed = false;
  begun = false;
  loaded = false;
  hasOnly = false;
  failed = false;

  /** The key of this run of the file in the event stream (see events.ts). */
  readonly file: string;

  readonly slot: number;

  constructor(readonly path: string, readonly round: number, private readonly worker: SlotWorker, private readonly out: FileRunOutput, private readonly onRunning: (r: Running | null) => void = () => undefined) {
    this.file = runKey(path, round);
    this.slot = worker.slot;
  }

  get plannedTests(): readonly TestInfo[] {
    return this.tests;
  }

  handle(event: WorkerEvent): void {
    const file = this.file;
    switch (event.type) {
      case 'file:begin':
        this.begun = true;
        this.emit({ type: 'file:begin', file, path: this.path, round: this.round, slot: this.slot, incarnation: this.worker.incarnation });
        return;
      case 'file:loaded':
        this.loaded = true;
        this.hasOnly = event.hasOnly;
        this.tests = event.tests;
        for (const suite of event.suites) this.parents.set(suite.id, suite.parentId);
        this.emit({ type: 'file:loaded', file, suites: event.suites, tests: event.tests });
        return;
      case 'file:error': {
        this.failed = true;
        if (event.phase === 'load') this.loadFailed = true;
        const title =
          event.title !== undefined ? event.title
          : event.phase === 'load' ? `failed to load ${file}`
          : event.phase === 'outside' ? `Uncaught error outside test suite (${event.origin ?? file})`
          : event.after !== undefined ? `uncaught error in ${file} after "${event.after}" had passed`
          : event.phase === 'async' ? `uncaught error in ${event.origin ?? file} after its tests finished`
          : `error while running ${file}`;
        const error = event.phase === 'load' && isExitError(event.error) && this.exitCall !== null
          ? reword(event.error, `process.exit(${this.exitCall.code}) was called ${this.exitCall.where}; bulkhead failed the file and will replace the worker after it`)
          : event.error;
        this.emit({ type: 'file:fail', file: event.origin ?? file, title, error });
        return;
      }
      case 'file:stopped':
        this.stopReason = event.reason;
        return;
      case 'suite:begin':
        this.open.push(event.suiteId);
        this.emit({ ...event, file });
        return;
      case 'suite:end': {
        const at = this.open.lastIndexOf(event.suiteId);
        if (at >= 0) this.open.splice(at, 1);
        this.emit({ ...event, file });
        return;
      }
      case 'hook:begin':
        this.setRunning({ what: event.hook.title, timeout: event.timeout });
        return;
      case 'hook:end':
        // A beforeEach hook ran inside its test's span: the test body comes next and is watched again.
        this.setRunning(this.currentTest);
        return;
      case 'hook:fail': {
        this.failed = true;
        const exit = isExitError(event.error) && this.exitCall !== null;
        this.hookFailures.push({ title: event.hook.title, suiteId: event.hook.suiteId, exit });
        // A failed beforeEach means its test does not run.
        this.currentTest = null;
        this.setRunning(null);
        const error = exit && this.exitCall !== null
          ? reword(event.error, `process.exit(${this.exitCall.code}) was called ${this.exitCall.where}; bulkhead failed the hook and will replace the worker after this file`)
          : event.error;
        this.emit({ type: 'hook:fail', file, hook: event.hook, error });
        return;
      }
      case 'test:begin': {
        const test = this.tests.find((t) => t.id === event.testId);
        this.currentTest = { what: test?.titlePath.join(' ') ?? event.testId, testId: event.testId, timeout: event.timeout };
        this.setRunning(this.currentTest);
        this.emit({ type: 'test:begin', file, testId: event.testId, slot: this.slot });
        return;
      }
      case 'test:retry':
        // The attempt is over; its afterEach hooks run, then the next attempt begins with its own test:begin.
        this.currentTest = null;
        this.emit({ type: 'test:retry', file, testId: event.testId, attempt: event.attempt, error: event.error, usedDatabase: event.usedDatabase });
        return;
      case 'test:end':
        this.currentTest = null;
        this.setRunning(null);
        this.ended.add(event.testId);
        if (event.state === 'failed') this.failed = true;
        this.emit({ ...event, file, slot: this.slot });
        return;
      case 'connect':
        this.emit({ type: 'connect', slot: event.slot, incarnation: this.worker.incarnation, generation: event.generation, pid: event.pid });
        return;
      case 'rebuild':
        this.emit({ type: 'rebuild', file, incarnation: this.worker.incarnation, rebuild: event.rebuild });
        return;
      case 'server:waiting':
        this.emit({ type: 'server:waiting', slot: this.slot, message: event.message });
        return;
      case 'session:ended':
        this.emit({ type: 'session:ended', file, incarnation: this.worker.incarnation, session: event.session });
        return;
      case 'output':
        this.emit({ type: 'output', file, stream: event.stream, text: event.text });
        return;
      case 'exit-called': {
        const r = this.running;
        const where =
          r?.testId !== undefined ? `in the test "${r.what}"`
          : r !== null ? `in the ${r.what}`
          : !this.loaded ? `at the top level of ${this.path}`
          : `in ${this.path} outside any test or hook`;
        this.exitCall ??= { code: event.code, where };
        return;
      }
      case 'timeout':
        this.timeoutChanged(event.scope, event.timeout);
        return;
      case 'pong':
        return;
      case 'chaos':
        this.emit({ type: 'chaos', file, slot: this.slot, incarnation: this.worker.incarnation, fault: event.fault, title: event.title });
        return;
    }
  }

  /** Every event of this file goes out here, so the second signal's rule applies to all of them. */
  private emit(event: RunEvent): void {
    const out = this.out.cutOff() ? afterSecondSignal(event, this.out.cutReason?.()) : event;
    if (out !== null) this.out.bus.emit(out);
  }

  /** A failure of the file found by the main thread (its slot could not be prepared again after a crash). */
  fail(title: string, error: SerializedError): void {
    this.emit({ type: 'file:fail', file: this.file, title, error });
  }

  /** The file's tests are unknown (it was never loaded): it is listed as one entry that did not run. */
  notRunWhole(reason: string): void {
    this.emit({ type: 'test:notrun', file: this.file, testId: '*', reason });
  }

  /**
   * The running test or hook set a new timeout: the watchdog is armed again from now, as mocha restarts its own
   * timer. A change to the current test from its beforeEach applies when the test body runs.
   */
  private timeoutChanged(scope: 'current' | 'test', timeout: number): void {
    const changed = scope === 'current' ? this.running : this.currentTest;
    if (changed === null) return;
    changed.timeout = timeout;
    if (changed === this.running) this.onRunning(changed);
  }

  private setRunning(r: Running | null): void {
    this.running = r;
    this.onRunning(r);
  }

  /** The worker died: fail what was running, then account for the rest. */
  crashed(error: Error, aborted: string | null): void {
    this.failed = true;
    const running = this.running;
    this.currentTest = null;
    this.setRunning(null);
    const message = aborted ?? `the worker of slot ${this.slot} died while running ${running?.what ?? this.file}: ${error.message}`;
    // Reporters print an error's stack in place of its message; the pool's own frames would hide the cause.
    const cause: SerializedError = { name: 'WorkerCrash', message, stack: `WorkerCrash: ${message}` };
    if (running?.testId !== undefined && !this.ended.has(running.testId)) {
      this.ended.add(running.testId);
      this.emit({ type: 'test:end', file: this.file, testId: running.testId, slot: this.slot, state: 'failed', duration: 0, attempt: 0, generation: 0, error: cause });
    } else {
      const title = !this.loaded ? `failed to load ${this.file}` : `worker crashed while running ${running?.what ?? this.file}`;
      this.emit({ type: 'file:fail', file: this.file, title, error: cause });
    }
    // Tests that a failed hook or a stop had already ruled out keep that reason when the worker dies later.
    this.finish(`the worker crashed in ${running?.what ?? 'this file'}`);
  }

  /**
   * Why the file stopped before a test, most specific first: a stop the file itself caused (bail, a late error,
   * process.exit(), where it was called), then the caller's reason (a crash, Ctrl-C, --bail from another file).
   */
  private stopCause(reason: string | undefined): string {
    // The worker names the first cause of a stop; a process.exit() one is phrased here, where the main thread
    // knows whether a test, a hook or the file's top level called it.
    const own = this.stopReason !== null && !this.stopReason.startsWith('process.exit(') ? this.stopReason : null;
    const exit = this.exitCall !== null ? `process.exit(${this.exitCall.code}) was called ${this.exitCall.where}` : null;
    const lastHook = this.hookFailures.at(-1);
    return own ?? exit ?? (this.loadFailed ? 'the file failed to load' : null) ?? this.stopReason ?? reason ?? (lastHook !== undefined ? `hook failed: ${lastHook.title}` : 'the run stopped before this test');
  }

  /** A test inside the suite of a failed hook was skipped by mocha because of that hook. */
  private hookReason(test: TestInfo): string | null {
    for (const h of this.hookFailures) {
      if (!this.within(test.suiteId, h.suiteId)) continue;
      if (h.exit && this.exitCall !== null) return `process.exit(${this.exitCall.code}) was called ${this.exitCall.where}`;
      return `hook failed: ${h.title}`;
    }
    return null;
  }

  private within(suiteId: string, ancestor: string): boolean {
    for (let s: string | null | undefined = suiteId; s !== null && s !== undefined; s = this.parents.get(s)) {
      if (s === ancestor) return true;
    }
    return ancestor === 'root';
  }

  /** Every planned test that has no outcome is reported as not run, with the reason; open suites are closed. */
  finish(reason?: string): void {
    // Suites a crash or a stop left open are ended, innermost first, so the next file's output is not nested
    // inside this one's.
    for (let id = this.open.pop(); id !== undefined; id = this.open.pop()) this.emit({ type: 'suite:end', file: this.file, suiteId: id });
    const why = this.stopCause(reason);
    for (const t of this.tests) {
      if (!this.ended.has(t.id)) {
        this.ended.add(t.id);
        this.emit({ type: 'test:notrun', file: this.file, testId: t.id, reason: this.hookReason(t) ?? why });
      }
    }
    this.emit({ type: 'file:end', file: this.file, slot: this.slot });
  }
}

function isExitError(error: SerializedError): boolean {
  return error.name === 'ProcessExitError';
}

/** The same error with a new message, its stack frames kept. */
function reword(error: SerializedError, message: string): SerializedError {
  const frames = (error.stack ?? '').split('\n').slice(error.message.split('\n').length);
  return { ...error, message, stack: [`${error.name}: ${message}`, ...frames].join('\n') };
}
