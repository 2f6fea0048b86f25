// Which spec file started the code that is running now. Timers, promises and sockets a file's tests set up keep
// their file in an AsyncLocalStorage, so an error they throw after the file ended (while another file runs, or
// while the worker is idle) is reported against the file that caused it, never against an innocent test.
import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The file, and whether the code ran as the file loaded (its top level) or as mocha ran it (tests and hooks):
 * mocha 12 lets a rejection from test code pass whenever it surfaces, but one from a file's top level fails it.
 */
interface Origin {
  file: string;
  phase: 'load' | 'run';
}

const origin = new AsyncLocalStorage<Origin>();

/** Runs `fn` (loading and running one spec file) with `file` as the origin of everything it schedules. */
export function withOrigin<T>(file: string, fn: () => T): T {
  return origin.run({ file, phase: 'load' }, fn);
}

/** From here on (mocha runs the loaded file) what the file's code schedules is test code. */
export function enterRunPhase(): void {
  const current = origin.getStore();
  if (current !== undefined) origin.enterWith({ file: current.file, phase: 'run' });
}

/** Whether the current callback was scheduled by a test or hook (not by a file's top level, nor the worker). */
export function fromTestCode(): boolean {
  return origin.getStore()?.phase === 'run';
}

/**
 * Runs `fn` outside any file: what it sets up belongs to the worker, not to the file that happens to be current.
 * A socket keeps the context it was opened in, so the worker's connection (reused by every later file) and the
 * worker's one-time setup (--require modules, onWorkerStart) must not carry the first file that needed them.
 */
export function withoutOrigin<T>(fn: () => T): T {
  return origin.exit(fn);
}

/** The root-relative spec file whose code scheduled the current callback, if any. */
export function currentOrigin(): string | undefined {
  return origin.getStore()?.file;
}

/**
 * Waits, at most `limitMs`, for the timers and immediates still pending in this thread (a test's late
 * `setTimeout`) to run, so the errors they throw surface before the worker closes. Polls: Node has no event for
 * "no timers left".
 */
export async function drainTimers(limitMs: number): Promise<void> {
  const pending = (): boolean => process.getActiveResourcesInfo().some((r) => r === 'Timeout' || r === 'Immediate');
  const until = performance.now() + limitMs;
  while (pending() && performance.now() < until) {
    await new Promise<void>((resolve) => setTimeout(resolve, 10).unref());
  }
}
