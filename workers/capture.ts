// Process-level containment inside a worker thread: output goes to the file that wrote it, process.exit() fails
// the test that called it instead of killing the thread mid-protocol, and stray async errors are attributed.
import type { WorkerEvent } from '../src/protocol/messages.js';
import { serializeError } from '../src/protocol/serialize.js';
import { currentOrigin, fromTestCode } from './origin.js';
import { uncaughtThrough } from './connection.js';

type Emit = (event: WorkerEvent) => void;

/** Thrown by the patched process.exit(): it fails the calling test, and the worker is replaced after the file. */
export class ProcessExitError extends Error {
  readonly exitCode: number;
  constructor(code: number) {
    super(`process.exit(${code}) was called by the test; bulkhead failed the test and will replace the worker after this file`);
    this.name = 'ProcessExitError';
    this.exitCode = code;
  }
}

interface Target {
  emit: Emit;
  /** Root-relative, as the main thread names files. */
  file: string;
  /** Called once process.exit() has been called during the file: its runner stops after the current test. */
  onExit?: (code: number) => void;
}

let target: Target | null = null;
let lastFile: string | null = null;
let mochaRunning = false;
/** While mocha runs: whether a test or hook is running (mocha's unhandled-rejection handler passes the rest on). */
let inRunnable: () => boolean = () => false;
let exitCalled = false;
const orphanErrors: { file: string | null; error: unknown }[] = [];

export function attach(next: Target): void {
  target = next;
  lastFile = next.file;
  for (const { file, error } of orphanErrors.splice(0)) {
    next.emit({ type: 'file:error', phase: 'async', error: serializeError(error), ...(file !== null ? { origin: file } : {}) });
  }
}

export function detach(): void {
  target = null;
}

export function setMochaRunning(running: boolean, runnableCurrent: () => boolean = () => false): void {
  mochaRunning = running;
  inRunnable = runnableCurrent;
}

/** True once a spec called process.exit(): the thread's state is no longer trusted. */
export function takeExitCalled(): boolean {
  const was = exitCalled;
  exitCalled = false;
  return was;
}

export function drainOrphans(): { file: string | null; error: unknown }[] {
  return orphanErrors.splice(0);
}

export function installCapture(): void {
  for (const stream of ['stdout', 'stderr'] as const) {
    const original = process[stream].write.bind(process[stream]);
    process[stream].write = ((chunk: string | Uint8Array, encoding?: unknown, cb?: unknown): boolean => {
      if (target === null) return original(chunk as string, encoding as BufferEncoding, cb as () => void);
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString(typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
      target.emit({ type: 'output', stream, text });
      const done = typeof encoding === 'function' ? encoding : cb;
      if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
      return true;
    }) as typeof process.stdout.write;
  }

  process.exit = ((code?: number | string | null) => {
    const numeric = code === undefined || code === null ? Number(process.exitCode ?? 0) : Number(code);
    exitCalled = true;
    const error = new ProcessExitError(numeric);
    // A late call from an earlier file's timer is that file's error (reported as it surfaces), not this file's.
    const origin = currentOrigin();
    if (target !== null && (origin === undefined || origin === target.file)) {
      target.emit({ type: 'exit-called', code: numeric, ...(error.stack !== undefined ? { stack: error.stack } : {}) });
      target.onExit?.(numeric);
    }
    throw error;
  }) as typeof process.exit;

  // While mocha runs a file it owns uncaught errors and fails the current runnable; outside a run they belong
  // to the file that is (or was last) on this worker, and must never kill the thread.
  process.on('uncaughtException', (error) => {
    if (mochaRunning) return;
    report(error);
  });
  // Mocha 12 lets an unhandled rejection from a test or hook pass, whenever it surfaces (during the test, between
  // files, after the last); so does bulkhead, by where the promise was made, not by when it surfaced, which on a
  // parallel run is timing. One that no runnable can be charged with (the file's top level, as its run begins)
  // fails the file instead of vanishing. While mocha runs, its own listener passes each rejection on a second time.
  let last: unknown = undefined;
  process.on('unhandledRejection', (reason) => {
    if (fromTestCode()) return;
    if (mochaRunning && inRunnable()) return;
    if (mochaRunning && reason === last) return;
    last = reason;
    report(reason, mochaRunning ? 'outside' : 'async');
  });
}

function report(error: unknown, phase: 'async' | 'outside' = 'async'): void {
  uncaughtThrough(error);
  const origin = currentOrigin();
  if (target !== null) {
    target.emit({ type: 'file:error', phase, error: serializeError(error), ...(origin !== undefined && origin !== target.file ? { origin } : {}) });
  } else {
    orphanErrors.push({ file: origin ?? lastFile, error });
  }
}
