// The one interrupt state of a run. The CLI creates it and counts every signal into it; the session and dispatch
// read it. The first signal starts "stop" (dispatch stops, the running tests finish), the second "now" (the running
// tests are cut off at once). A third is the CLI's alone: it exits without cleaning up.
import type { RunEvent } from './events.js';

/** When each phase starts: "stop" on the first signal, "now" on the second. */
export type InterruptPhase = 'stop' | 'now';

export class Interrupts {
  private received = 0;
  private first: string | null = null;
  private readonly listeners: Record<InterruptPhase, Set<() => void>> = { stop: new Set(), now: new Set() };

  /** Counts one signal (SIGINT, SIGTERM, SIGHUP), tells the phase it starts, and returns the count so far. */
  receive(signal: string): number {
    this.received++;
    this.first ??= signal;
    const phase: InterruptPhase | null = this.received === 1 ? 'stop' : this.received === 2 ? 'now' : null;
    if (phase !== null) for (const fn of [...this.listeners[phase]]) fn();
    return this.received;
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

  /** A second signal came: the running tests are being cut off. */
  get stoppedAtOnce(): boolean {
    return this.received >= 2;
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
 * The second signal's rule: the run is being cut off, so what the cut does to the running tests (their backends
 * are ended, their threads terminated) is not their outcome. A failing test is reported as not run, a test not run
 * for another reason is not run because of the cut, and the failures and connection rebuilds the cut causes are
 * dropped. FileRun, which produces every outcome of a file, applies it to each event once `stoppedAtOnce` holds.
 */
export function afterSecondSignal(event: RunEvent): RunEvent | null {
  switch (event.type) {
    case 'test:end':
      return event.state === 'failed' ? { type: 'test:notrun', file: event.file, testId: event.testId, reason: STOPPED_AT_ONCE } : event;
    case 'test:notrun':
      return event.reason.startsWith('interrupted') ? event : { ...event, reason: STOPPED_AT_ONCE };
    case 'rebuild':
    case 'hook:fail':
    case 'file:fail':
      return null;
    default:
      return event;
  }
}
