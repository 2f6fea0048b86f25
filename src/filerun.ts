// One file on one slot, seen from the main thread: turns worker events into run events, knows which test is
// running (for the watchdog and for crashes), and accounts for every planned test when the file ends.
import type { SerializedError, TestInfo, WorkerEvent } from './protocol.js';
import type { EventBus } from './events.js';

export interface Running {
  what: string;
  testId?: string;
  timeout: number;
}

export class FileRun {
  private tests: TestInfo[] = [];
  private readonly ended = new Set<string>();
  private running: Running | null = null;
  private lastHookFailure: string | null = null;
  private exitCall: { code: number } | null = null;
  private stopReason: string | null = null;
  begun = false;
  loaded = false;
  hasOnly = false;
  failed = false;

  /** The key of this run of the file in the event stream (see events.ts). */
  readonly file: string;

  constructor(readonly path: string, readonly round: number, readonly slot: number, private readonly bus: EventBus, private readonly onRunning: (r: Running | null) => void) {
    this.file = round === 0 ? path : `${path}#${round + 1}`;
  }

  get plannedTests(): readonly TestInfo[] {
    return this.tests;
  }

  handle(event: WorkerEvent): void {
    const file = this.file;
    switch (event.type) {
      case 'file:begin':
        this.begun = true;
        this.bus.emit({ type: 'file:begin', file, path: this.path, round: this.round, slot: this.slot });
        return;
      case 'file:loaded':
        this.loaded = true;
        this.hasOnly = event.hasOnly;
        this.tests = event.tests;
        this.bus.emit({ type: 'file:loaded', file, suites: event.suites, tests: event.tests });
        return;
      case 'file:error': {
        this.failed = true;
        const title =
          event.phase === 'load' ? `failed to load ${file}`
          : event.after !== undefined ? `uncaught error in ${file} after "${event.after}" had passed`
          : event.phase === 'async' ? `uncaught error in ${event.origin ?? file} after its tests finished`
          : `error while running ${file}`;
        this.bus.emit({ type: 'file:fail', file: event.origin ?? file, title, error: event.error });
        return;
      }
      case 'file:stopped':
        this.stopReason = event.reason;
        return;
      case 'suite:begin':
      case 'suite:end':
        this.bus.emit({ ...event, file });
        return;
      case 'hook:begin':
        this.setRunning({ what: event.hook.title, timeout: event.timeout });
        return;
      case 'hook:end':
        this.setRunning(null);
        return;
      case 'hook:fail':
        this.failed = true;
        this.lastHookFailure = event.hook.title;
        this.setRunning(null);
        this.bus.emit({ type: 'hook:fail', file, hook: event.hook, error: event.error });
        return;
      case 'test:begin': {
        const test = this.tests.find((t) => t.id === event.testId);
        this.setRunning({ what: test?.titlePath.join(' ') ?? event.testId, testId: event.testId, timeout: event.timeout });
        this.bus.emit({ type: 'test:begin', file, testId: event.testId, slot: this.slot });
        return;
      }
      case 'test:retry':
        this.bus.emit({ type: 'test:retry', file, testId: event.testId, attempt: event.attempt, error: event.error });
        return;
      case 'test:end':
        this.setRunning(null);
        this.ended.add(event.testId);
        if (event.state === 'failed') this.failed = true;
        this.bus.emit({ ...event, file, slot: this.slot });
        return;
      case 'connect':
        this.bus.emit({ type: 'connect', slot: event.slot, generation: event.generation, pid: event.pid });
        return;
      case 'rebuild':
        this.bus.emit({ type: 'rebuild', file, rebuild: event.rebuild });
        return;
      case 'output':
        this.bus.emit({ type: 'output', file, stream: event.stream, text: event.text });
        return;
      case 'exit-called':
        this.exitCall = { code: event.code };
        return;
      case 'chaos':
        this.bus.emit({ type: 'chaos', file, slot: this.slot, fault: event.fault, title: event.title });
        return;
    }
  }

  private setRunning(r: Running | null): void {
    this.running = r;
    this.onRunning(r);
  }

  /** The worker died: fail what was running, then account for the rest. */
  crashed(error: Error, aborted: string | null): void {
    this.failed = true;
    const running = this.running;
    this.setRunning(null);
    const message = aborted ?? `the worker of slot ${this.slot} died while running ${running?.what ?? this.file}: ${error.message}`;
    // Reporters print an error's stack in place of its message; the pool's own frames would hide the cause.
    const cause: SerializedError = { name: 'WorkerCrash', message, stack: `WorkerCrash: ${message}` };
    if (running?.testId !== undefined && !this.ended.has(running.testId)) {
      this.ended.add(running.testId);
      this.bus.emit({ type: 'test:end', file: this.file, testId: running.testId, slot: this.slot, state: 'failed', duration: 0, attempt: 0, generation: 0, error: cause });
    } else {
      this.bus.emit({ type: 'file:fail', file: this.file, title: `worker crashed while running ${running?.what ?? this.file}`, error: cause });
    }
    // Tests that a failed hook or a stop had already ruled out keep that reason when the worker dies between tests.
    const crash = `the worker crashed in ${running?.what ?? 'this file'}`;
    this.finish(running !== null ? crash : (this.knownReason() ?? crash));
  }

  private knownReason(): string | null {
    if (this.lastHookFailure !== null) return `hook failed: ${this.lastHookFailure}`;
    if (this.stopReason !== null) return this.stopReason;
    return this.exitCall !== null ? `process.exit(${this.exitCall.code}) was called` : null;
  }

  /** Every planned test that has no outcome is reported as not run, with the reason. */
  finish(reason?: string): void {
    const why = reason ?? this.knownReason() ?? 'the run stopped before this test';
    for (const t of this.tests) {
      if (!this.ended.has(t.id)) {
        this.ended.add(t.id);
        this.bus.emit({ type: 'test:notrun', file: this.file, testId: t.id, reason: why });
      }
    }
    this.bus.emit({ type: 'file:end', file: this.file, slot: this.slot });
  }
}
