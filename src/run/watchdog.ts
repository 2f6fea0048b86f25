// The main thread's clocks on a worker: the load watchdog (a file that never finishes loading) and the test
// watchdog (a test or hook that blocks the event loop past its timeout). Both end the slot's backends
// server-side, then terminate the thread; Piscina starts a replacement with the same slot data.
// The test watchdog acts only on a blocked event loop: past the timeout in force, the thread must also have stopped
// answering its heartbeat. A thread whose loop turns is left to mocha's own timer, which fails the test itself.
import type { Admin } from '../db/admin.js';
import type { SlotPool, SlotTask, RunOutcome } from './slotpool.js';
import type { WorkerEvent } from '../protocol/messages.js';

/** Ends a slot's backends server-side, then terminates its thread; Piscina starts a replacement for the slot. */
export class Watchdog {
  private timer: NodeJS.Timeout | undefined;
  private beat: NodeJS.Timeout | undefined;
  private pings = 0;
  /** When the thread last answered a heartbeat (performance.now()). */
  private answered = 0;
  /** Bumped by every arm() and clear(): a firing that is no longer the current one must not kill the thread. */
  private generation = 0;

  constructor(
    private readonly pool: SlotPool,
    private readonly admin: Pick<Admin, 'terminate'>,
    private readonly slotPids: (slot: number) => number[],
    /** The slot's own database, when it has one: every session of its worker there is ended, known pid or not. */
    private readonly ownDatabase: (slot: number) => string | null = () => null,
  ) {}

  /** Fires `ms` from now, whatever the thread does (a file that never finishes loading may be awaiting forever). */
  arm(ms: number, reason: string): void {
    this.start(ms, reason, false);
  }

  /** Fires once `ms` have passed and the thread has stopped answering its heartbeat: its event loop is blocked. */
  armBlocked(ms: number, reason: string): void {
    this.start(ms, reason, true);
  }

  /** A heartbeat came back. */
  pong(): void {
    this.answered = performance.now();
  }

  private start(ms: number, reason: string, blocked: boolean): void {
    this.clear();
    if (ms <= 0) return;
    const armed = this.generation;
    if (blocked) {
      this.answered = performance.now();
      this.beat = setInterval(() => this.pool.ping(++this.pings), HEARTBEAT_MS);
    }
    // Silence is measured from the deadline on, never across it: answers that waited behind a busy main thread
    // are read before the next check.
    const check = (since: number): void => {
      if (this.generation !== armed) return;
      if (blocked && this.answered >= since) {
        const now = performance.now();
        this.timer = setTimeout(() => check(now), SILENT_MS);
        return;
      }
      this.fire(armed, reason);
    };
    this.timer = setTimeout(() => {
      const now = performance.now();
      if (blocked) this.timer = setTimeout(() => check(now), SILENT_MS);
      else check(now);
    }, ms);
  }

  private fire(armed: number, reason: string): void {
    clearInterval(this.beat);
    const slot = this.pool.slot;
    const database = this.ownDatabase(slot);
    void this.admin
      .terminate(this.slotPids(slot), database === null ? null : { database, slot })
      .catch(() => 0)
      // The runnable may have yielded, or the task ended (and the next file begun), while its backends were
      // being ended: only a watchdog still armed for the same runnable terminates the thread.
      .finally(() => {
        if (this.generation === armed) this.pool.kill(reason);
      });
  }

  clear(): void {
    clearTimeout(this.timer);
    clearInterval(this.beat);
    this.timer = undefined;
    this.beat = undefined;
    this.generation++;
  }
}

/** How often the test watchdog asks a thread whether its event loop turns, and how long a silence means "blocked". */
const HEARTBEAT_MS = 250;
const SILENT_MS = 1000;

/**
 * Runs one task under the load watchdog: from the moment the worker begins the file until it has loaded it (its
 * top-level code, its imports, and on a fresh worker the --require modules and onWorkerStart), nothing else
 * watches the thread, and an endless loop or a top-level await that never settles would hang the run.
 */
export async function runWatched(
  pool: SlotPool,
  task: SlotTask,
  sink: { readonly file: string; handle(e: WorkerEvent): void },
  dog: Watchdog,
  loadTimeout: number,
): Promise<RunOutcome> {
  const file = sink.file;
  try {
    return await pool.run(task, {
      onEvent: (e) => {
        if (e.type === 'pong') {
          dog.pong();
          return;
        }
        sink.handle(e);
        if (e.type === 'file:begin') {
          dog.arm(loadTimeout, `${file} did not finish loading within ${loadTimeout} ms (an endless loop or a top-level await that never settles, in the file or in what it imports); bulkhead terminated the worker of slot ${pool.slot} (see --load-timeout)`);
        } else if (e.type === 'file:loaded' || (e.type === 'file:error' && e.phase === 'load')) {
          dog.clear();
        }
      },
    });
  } finally {
    dog.clear();
  }
}
