// The one interrupt state of a run. The CLI creates it and counts every signal into it; the session and dispatch
// read it. The first signal starts "stop" (dispatch stops, the running tests finish), the second "now" (the running
// tests are cut off at once). A third is the CLI's alone: it exits without cleaning up. The running tests get a
// bounded time after the first signal (the shutdown grace): when it runs out, "now" starts as on a second signal,
// so a test that hangs (with --timeout 0, in an open transaction) cannot keep one SIGTERM from finishing the run
// well before the SIGKILL that CI systems send about 10 s later.
import type { RunEvent } from './events.js';

/** When each phase starts: "stop" on the first signal, "now" on the second. */
export type InterruptPhase = 'stop' | 'now';

export class Interrupts {
  private received = 0;
  private first: string | null = null;
  private readonly listeners: Record<InterruptPhase, Set<() => void>> = { stop: new Set(), now: new Set() };
  private graceMs: number | null = null;
  private graceTimer: NodeJS.Timeout | undefined;
  private graceRanOut = false;
  private nowStarted = false;

  /**
   * The shutdown grace (ms) the running tests get after the first signal; until it is set (the config is not read
   * yet) a first signal waits for a second. A grace set after the first signal counts from then.
   */
  setGrace(ms: number): void {
    this.graceMs = ms;
    if (this.received >= 1) this.startGrace();
  }

  /** Stops the grace clock: the run is over and must not be cut off any more. */
  dispose(): void {
    clearTimeout(this.graceTimer);
  }

  /** Counts one signal (SIGINT, SIGTERM, SIGHUP), tells the phase it starts, and returns the count so far. */
  receive(signal: string): number {
    this.received++;
    this.first ??= signal;
    if (this.received === 1) {
      this.fire('stop');
      this.startGrace();
    } else if (this.received === 2) {
      this.startNow();
    }
    return this.received;
  }

  private startGrace(): void {
    if (this.graceMs === null || this.graceTimer !== undefined || this.nowStarted) return;
    // Unref'd: a run that ends within the grace exits at once.
    this.graceTimer = setTimeout(() => {
      this.graceRanOut = true;
      this.startNow();
    }, this.graceMs).unref();
  }

  private startNow(): void {
    clearTimeout(this.graceTimer);
    if (this.nowStarted) return;
    this.nowStarted = true;
    this.fire('now');
  }

  private fire(phase: InterruptPhase): void {
    for (const fn of [...this.listeners[phase]]) fn();
  }

  /** Signals received so far. */
  get count(): number {
    return this.received;
  }

  /** The first signal's name; the exit status (128 + its number) and the not-run reasons use it. */
  get signal(): string | null {
    return this.first;
  }

  /** A first signal came: nothing more is dispatched. */
  get stopping(): boolean {
    return this.received >= 1;
  }

  /** A second signal came, or the shutdown grace ran out: the running tests are being cut off. */
  get stoppedAtOnce(): boolean {
    return this.nowStarted;
  }

  /** The shutdown grace ran out before a second signal came. */
  get graceExpired(): boolean {
    return this.graceRanOut;
  }

  /** Why the tests the cut-off stopped did not finish: not run, with this reason. */
  get cutReason(): string {
    return this.graceRanOut ? `interrupted: stopped after the shutdown grace of ${this.graceMs ?? 0} ms` : STOPPED_AT_ONCE;
  }

  /**
   * Calls `fn` when the phase starts, or at once when it already has (a signal may come before a session or a
   * dispatch listens). Returns the function that stops listening.
   */
  on(phase: InterruptPhase, fn: () => void): () => void {
    if (phase === 'stop' ? this.stopping : this.stoppedAtOnce) {
      fn();
      return () => undefined;
    }
    this.listeners[phase].add(fn);
    return () => {
      this.listeners[phase].delete(fn);
    };
  }

  /** How a not-run reason names the interruption: "interrupted (Ctrl-C)", "interrupted (SIGTERM)". */
  get reason(): string {
    return `interrupted (${this.first === null || this.first === 'SIGINT' ? 'Ctrl-C' : this.first})`;
  }
}

/** Why the tests cut off by a second signal did not finish: they are not run, not failed. */
export const STOPPED_AT_ONCE = 'interrupted: stopped at once by a second signal';

/**
 * The second signal's rule (also when the shutdown grace runs out): the run is being cut off, so what the cut does to the running tests (their backends
 * are ended, their threads terminated) is not their outcome. A failing test is reported as not run, a test not run
 * for another reason is not run because of the cut, and the failures and connection rebuilds the cut causes are
 * dropped. FileRun, which produces every outcome of a file, applies it to each event once `stoppedAtOnce` holds.
 */
export function afterSecondSignal(event: RunEvent, reason: string = STOPPED_AT_ONCE): RunEvent | null {
  switch (event.type) {
    case 'test:end':
      return event.state === 'failed' ? { type: 'test:notrun', file: event.file, testId: event.testId, reason } : event;
    case 'test:notrun':
      return event.reason.startsWith('interrupted') ? event : { ...event, reason };
    case 'rebuild':
    case 'hook:fail':
    case 'file:fail':
      return null;
    default:
      return event;
  }
}
