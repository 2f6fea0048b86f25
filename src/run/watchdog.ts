// The main thread's clocks on a worker: the load watchdog (a file that never finishes loading) and the test
// watchdog (a test or hook that blocks the event loop past its timeout). Both end the slot's backends
// server-side, then terminate the thread; Piscina starts a replacement with the same slot data.
import type { Admin } from '../db/admin.js';
import type { SlotPool, SlotTask, RunOutcome } from './slotpool.js';
import type { WorkerEvent } from '../protocol/messages.js';

/** Ends a slot's backends server-side, then terminates its thread; Piscina starts a replacement for the slot. */
export class Watchdog {
  private timer: NodeJS.Timeout | undefined;
  /** Bumped by every arm() and clear(): a firing that is no longer the current one must not kill the thread. */
  private generation = 0;

  constructor(private readonly pool: SlotPool, private readonly admin: Pick<Admin, 'terminate'>, private readonly slotPids: (slot: number) => number[]) {}

  arm(ms: number, reason: string): void {
    this.clear();
    if (ms <= 0) return;
    const armed = this.generation;
    this.timer = setTimeout(() => {
      void this.admin
        .terminate(this.slotPids(this.pool.slot))
        .catch(() => 0)
        // The runnable may have yielded, or the task ended (and the next file begun), while its backends were
        // being ended: only a watchdog still armed for the same runnable terminates the thread.
        .finally(() => {
          if (this.generation === armed) this.pool.kill(reason);
        });
    }, ms);
  }

  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.generation++;
  }
}

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
