// The run's event stream: worker events tagged with their file, plus what the main thread synthesizes (crashes,
// tests that never ran). Every reporter, the summary and the run record read this and nothing else.
import type { ChaosFault, EndedSession, HookInfo, RebuildInfo, SerializedError, SuiteInfo, TestInfo } from '../protocol/messages.js';

export type TestState = 'passed' | 'failed' | 'pending';

// A worker is named by its slot (1..N, Playwright's parallelIndex) and, where it matters, its incarnation: which of
// the slot's threads it was (1 for the first, one more each time the slot's thread is replaced; Playwright's
// workerIndex). Connection generations count per slot, across its incarnations.

// `file` is the key of one run of a file (runKey in plan/schedule.ts): its root-relative path, with "#<round>"
// appended for --repeat rounds after the first, so two rounds of one file on two slots never mix. `path` on
// file:begin is the plain path.
export type RunEvent =
  | { type: 'run:begin'; files: number; workers: number; target: string }
  | { type: 'file:begin'; file: string; path: string; round: number; slot: number; incarnation: number }
  | { type: 'file:loaded'; file: string; suites: SuiteInfo[]; tests: TestInfo[] }
  | { type: 'suite:begin'; file: string; suiteId: string }
  | { type: 'suite:end'; file: string; suiteId: string }
  | { type: 'test:begin'; file: string; testId: string; slot: number }
  | { type: 'test:retry'; file: string; testId: string; attempt: number; error: SerializedError; usedDatabase: boolean }
  | { type: 'test:end'; file: string; testId: string; slot: number; state: TestState; duration: number; attempt: number; generation: number; slow?: number; error?: SerializedError }
  | { type: 'test:notrun'; file: string; testId: string; reason: string }
  | { type: 'hook:fail'; file: string; hook: HookInfo; error: SerializedError }
  /** A failure that belongs to a file rather than a test: it did not load, an error escaped, its worker died. */
  | { type: 'file:fail'; file: string; title: string; error: SerializedError }
  | { type: 'file:end'; file: string; slot: number }
  | { type: 'rebuild'; file: string; incarnation: number; rebuild: RebuildInfo }
  /** A session the application opened itself, ended by the reset rule after a test. */
  | { type: 'session:ended'; file: string; incarnation: number; session: EndedSession }
  | { type: 'connect'; slot: number; incarnation: number; generation: number; pid: number }
  | { type: 'server:waiting'; slot: number; message: string }
  | { type: 'output'; file: string; stream: 'stdout' | 'stderr'; text: string }
  | { type: 'chaos'; file: string; slot: number; incarnation: number; fault: ChaosFault; title: string }
  /** Sessions still open on a slot's database when its worker closed; `file` lists the files the slot ran. */
  | { type: 'leak'; file: string; slot: number; incarnation: number; count: number; applicationNames: string[] }
  | { type: 'run:end'; interrupted: boolean };

export type Listener = (event: RunEvent) => void;

/**
 * Fans events out to listeners. A listener that throws is reported once and dropped, so one broken reporter
 * cannot stop a run or starve the others.
 */
export class EventBus {
  private readonly listeners: { name: string; fn: Listener }[] = [];
  readonly broken: { name: string; error: unknown }[] = [];

  on(name: string, fn: Listener): void {
    this.listeners.push({ name, fn });
  }

  emit(event: RunEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l.fn(event);
      } catch (error) {
        this.broken.push({ name: l.name, error });
        this.listeners.splice(this.listeners.indexOf(l), 1);
      }
    }
  }
}
