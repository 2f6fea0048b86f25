// Stock mocha reporters (and third-party ones named by package) render the merged run: the main thread rebuilds
// each file's suites and tests as real mocha objects and replays the worker events on a real mocha Runner.
import { createRequire } from 'node:module';
import path from 'node:path';
import type Mocha from 'mocha';
import { mochaInUse } from '../protocol/mochacopy.js';
import type { RunEvent } from '../run/events.js';
import { errors } from '../errors.js';
import type { Redactor } from '../db/redact.js';
import { thaw, toError } from './mochaerror.js';
import { allowFunctionReporters } from './legacy.js';
import { parseRunKey } from '../plan/schedule.js';
import { TERMINAL_REPORTERS } from '../config/reporters.js';
import type { ReporterChoice } from '../config/types.js';
import { Destination } from './destination.js';

/** How a replay shows things: mocha's diff settings, colour, and where it writes. */
export interface ReplayDisplay {
  inlineDiffs: boolean;
  diff: boolean;
  color?: boolean | null;
  /** Where the reporter writes (default: stdout). */
  dest?: Destination;
}

/** The project's mocha (else bulkhead's): its reporters, and the Runner, Suite and Test objects they are given. */
const M = (): typeof Mocha => mochaInUse().Mocha;
// Event names are the same strings in every supported mocha.
const C = M().Runner.constants;

type ReporterCtor = new (runner: Mocha.Runner, options: Record<string, unknown>) => Mocha.reporters.Base & {
  done?: (failures: number, fn: (code?: number) => void) => void;
};

// Stock reporters that write their document to the file named by --reporter-option output instead of stdout.
const FILE_REPORTERS = new Set(['json', 'xunit']);

/** Whether bulkhead's own lines may go to stdout next to this reporter's output (else they go to stderr). */
export function sharesStdout(choice: ReporterChoice, options: Record<string, unknown>): boolean {
  if (choice.file !== null || TERMINAL_REPORTERS.has(choice.name)) return true;
  const output = options['output'];
  return FILE_REPORTERS.has(choice.name) && typeof output === 'string' && output !== '';
}

export function loadReporter(name: string, root: string): ReporterCtor {
  const builtin = (M().reporters as unknown as Record<string, ReporterCtor>)[name];
  if (builtin !== undefined) return builtin;
  allowFunctionReporters();
  try {
    const fromProject = createRequire(path.join(root, 'package.json'));
    const candidate = name.startsWith('.') || path.isAbsolute(name) ? path.resolve(root, name) : name;
    const mod = fromProject(candidate) as ReporterCtor | { default: ReporterCtor };
    return typeof mod === 'function' ? mod : mod.default;
  } catch (err) {
    throw errors.reporter(name, reporterCause(name, root, err));
  }
}

// Node's "Cannot find module ... Require stack: ..." runs over several lines; the user needs one clear reason.
function reporterCause(name: string, root: string, err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'MODULE_NOT_FOUND' && err instanceof Error && err.message.includes(`'${name}'`)) {
    return new Error(`it is not a built-in mocha reporter, and no package or file of that name is installed in ${root}`);
  }
  return err instanceof Error ? new Error(err.message.split('\n')[0] ?? err.message, { cause: err }) : err;
}

type Symbols = Record<string, string>;
/** Each copy's Base, with the symbols it came with. */
const originalSymbols = new WeakMap<object, Symbols>();

/** mocha's ✔ and ✖ come coloured from log-symbols, whatever useColors says: without colour they are plain. */
function setSymbols(plain: boolean): void {
  const base = M().reporters.Base as unknown as { symbols: Symbols };
  const original = originalSymbols.get(base) ?? { ...base.symbols };
  originalSymbols.set(base, original);
  // eslint-disable-next-line no-control-regex
  base.symbols = plain ? Object.fromEntries(Object.entries(original).map(([k, v]) => [k, v.replace(/\u001b\[[0-9;]*m/g, '')])) : { ...original };
}

function noop(): void {}

interface FileObjects {
  suites: Map<string, Mocha.Suite>;
  tests: Map<string, Mocha.Test>;
}

export class MochaReplay {
  readonly runner: Mocha.Runner;
  private readonly reporter: InstanceType<ReporterCtor>;
  private readonly root: Mocha.Suite;
  private readonly files = new Map<string, FileObjects>();
  private readonly paths = new Map<string, string>();
  private started = false;
  private readonly dest: Destination;
  /** Colour for this reporter: off in a file; else what the run says (null: mocha decides). */
  private readonly color: boolean | null;

  constructor(Reporter: ReporterCtor, options: Record<string, unknown>, private readonly projectRoot: string, total: () => number, private readonly redactor: Redactor, display: ReplayDisplay = { inlineDiffs: false, diff: true }) {
    this.dest = display.dest ?? Destination.stdout();
    this.color = this.dest.file !== null ? false : (display.color ?? null);
    const RootSuite = M().Suite as unknown as new (title: string, ctx: Mocha.Context, isRoot: boolean) => Mocha.Suite;
    this.root = new RootSuite('', new (M().Context)(), true);
    this.runner = new (M().Runner)(this.root, { delay: false } as never);
    // How Mocha#run gives reporters their stats: mocha 11 exports the function itself, mocha 12 a named export.
    type Collect = (runner: Mocha.Runner) => void;
    const stats = mochaInUse().load<Collect | { createStatsCollector: Collect }>('lib/stats-collector');
    (typeof stats === 'function' ? stats : stats.createStatsCollector)(this.runner);
    Object.defineProperty(this.runner, 'total', { get: total, configurable: true });
    // Reporters may fill in defaults on their options (mocha-junit-reporter does); the config's copy is frozen.
    const own = thaw(options);
    // What Mocha#run does before it makes the reporter: the diff settings are statics of Base, read as each
    // failure is printed, and the reporter gets them among its options.
    M().reporters.Base.inlineDiffs = display.inlineDiffs;
    (M().reporters.Base as unknown as { hideDiff: boolean }).hideDiff = !display.diff;
    const { dest: _dest, ...shown } = display;
    this.reporter = this.within(() => new Reporter(this.runner, { reporterOption: own, reporterOptions: own, ...shown }));
  }

  /**
   * Runs fn as this reporter's turn: its colour and symbols, its destination. Base's statics are shared by every
   * reporter of the run, so each turn sets them and gives them back.
   */
  private within<T>(fn: () => T): T {
    const Base = M().reporters.Base;
    const colors = Base.useColors;
    // mocha reads --color/--no-colors from process.argv (supports-color); -C and NO_COLOR it does not read at all.
    if (this.color !== null) Base.useColors = this.color;
    setSymbols(this.color === false);
    try {
      return this.dest.around(fn);
    } finally {
      Base.useColors = colors;
    }
  }

  private objects(file: string): FileObjects {
    let o = this.files.get(file);
    if (o === undefined) {
      o = { suites: new Map([['root', this.root]]), tests: new Map() };
      this.files.set(file, o);
    }
    return o;
  }

  private pathOf(key: string): string {
    return this.paths.get(key) ?? path.resolve(this.projectRoot, parseRunKey(key).rel);
  }

  handle(event: RunEvent): void {
    // The tests' own output is the set's to echo (reporters/set.ts), once, whatever the number of reporters.
    if (event.type === 'output') return;
    this.within(() => this.replay(event));
  }

  private replay(event: RunEvent): void {
    switch (event.type) {
      case 'run:begin':
        this.started = true;
        this.runner.emit(C.EVENT_RUN_BEGIN);
        this.runner.emit(C.EVENT_SUITE_BEGIN, this.root);
        return;
      case 'file:begin':
        this.paths.set(event.file, path.resolve(this.projectRoot, event.path));
        return;
      case 'file:loaded': {
        const o = this.objects(event.file);
        const abs = this.pathOf(event.file);
        for (const s of event.suites) {
          const parent = o.suites.get(s.parentId ?? 'root') ?? this.root;
          const suite = M().Suite.create(parent, s.title);
          suite.file = abs;
          o.suites.set(s.id, suite);
        }
        for (const t of event.tests) {
          const test = new (M().Test)(t.title, noop);
          const parent = o.suites.get(t.suiteId) ?? this.root;
          parent.addTest(test);
          test.file = abs;
          test.pending = t.pending;
          test.timeout(t.timeout);
          test.slow(t.slow);
          if (t.retries !== undefined) test.retries(t.retries);
          o.tests.set(t.id, test);
        }
        return;
      }
      case 'suite:begin':
      case 'suite:end': {
        const suite = this.objects(event.file).suites.get(event.suiteId);
        if (suite !== undefined) this.runner.emit(event.type === 'suite:begin' ? C.EVENT_SUITE_BEGIN : C.EVENT_SUITE_END, suite);
        return;
      }
      case 'test:begin': {
        const test = this.objects(event.file).tests.get(event.testId);
        if (test !== undefined) this.runner.emit(C.EVENT_TEST_BEGIN, test);
        return;
      }
      case 'test:retry': {
        const test = this.objects(event.file).tests.get(event.testId);
        if (test !== undefined) this.runner.emit(C.EVENT_TEST_RETRY, test, toError(event.error, this.redactor) as never);
        return;
      }
      case 'test:end': {
        const test = this.objects(event.file).tests.get(event.testId);
        if (test === undefined) return;
        test.duration = event.duration;
        (test as unknown as { currentRetry(n: number): void }).currentRetry(event.attempt);
        // The test may have changed its threshold with this.slow(n) while it ran. `speed` is not set here: as in
        // mocha, Base's 'pass' listener derives it from slow(), and a failed test has none.
        if (event.slow !== undefined) test.slow(event.slow);
        if (event.state === 'pending') {
          test.pending = true;
          this.runner.emit(C.EVENT_TEST_PENDING, test);
        } else if (event.state === 'passed') {
          test.state = 'passed';
          this.runner.emit(C.EVENT_TEST_PASS, test);
        } else {
          test.state = 'failed';
          // test.err is left to Base's 'fail' listener, as under mocha: set beforehand, Base would take this
          // error for a second failure of the test and list it in err.multiple.
          this.runner.emit(C.EVENT_TEST_FAIL, test, toError(event.error ?? { name: 'Error', message: 'failed' }, this.redactor));
        }
        this.runner.emit(C.EVENT_TEST_END, test);
        return;
      }
      case 'hook:fail': {
        const suite = this.objects(event.file).suites.get(event.hook.suiteId) ?? this.root;
        const hook = new (M().Hook)(event.hook.title, noop);
        hook.parent = suite;
        (hook as Mocha.Hook & { file?: string }).file = this.pathOf(event.file);
        // Runner#fail marks the runnable failed before it emits 'fail'; reporters that list failures at the end
        // (xunit) tell a failed hook from a passed test by this state.
        hook.state = 'failed';
        this.runner.emit(C.EVENT_TEST_FAIL, hook, toError(event.error, this.redactor));
        return;
      }
      case 'file:fail': {
        const test = new (M().Test)(event.title, noop);
        this.root.addTest(test);
        test.file = this.pathOf(event.file);
        test.state = 'failed';
        test.duration = 0;
        this.runner.emit(C.EVENT_TEST_FAIL, test, toError(event.error, this.redactor));
        this.runner.emit(C.EVENT_TEST_END, test);
        return;
      }
      case 'file:end':
        this.files.delete(event.file);
        this.paths.delete(event.file);
        return;
      default:
        return;
    }
  }

  /** Ends the replayed run and waits for reporters that write files (xunit, junit) to finish. */
  async end(): Promise<void> {
    try {
      if (!this.started) this.handle({ type: 'run:begin', files: 0, workers: 0, target: '' });
      this.within(() => {
        this.runner.emit(C.EVENT_SUITE_END, this.root);
        this.runner.emit(C.EVENT_RUN_END);
      });
      const failures = this.runner.stats?.failures ?? 0;
      const done = this.reporter.done;
      if (typeof done === 'function') {
        await new Promise<void>((resolve) => this.within(() => done.call(this.reporter, failures, () => resolve())));
      }
    } finally {
      this.dest.close();
    }
  }
}
