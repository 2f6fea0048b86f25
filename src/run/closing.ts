// The end of each slot's work: its worker closes (root afterAll, onWorkerStop, the goodbye) and the sessions its code
// still holds are found, as soon as that slot has no file left, while the other slots still run their last files.
// Waiting for every slot first put the slowest slot's tail, then every slot's leak grace in turn, on the critical
// path (issue 11: 1 s of a 5.7 s run of 42 files that keep module-level pools, at -w 2).
import type { SlotResources } from '../db/types.js';
import type { EventBus } from './events.js';
import type { SlotPool } from './slotpool.js';

interface Found {
  count: number;
  applicationNames: string[];
}

export interface ClosingOptions {
  resources: SlotResources;
  bus: EventBus;
  /** 'ignore': no leak is looked for (they are still ended at teardown). */
  leaks: 'report' | 'fail' | 'ignore';
  /** The backends each slot's own connections had, which are never leaks. */
  slotPids(slot: number): number[];
}

export class SlotClosing {
  private readonly found = new Map<number, Promise<Found>>();
  /** The files each slot ran, named in its leak report. */
  private readonly ran = new Map<number, string[]>();

  constructor(private readonly o: ClosingOptions) {
    o.bus.on('leak-files', (e) => {
      if (e.type === 'file:end') this.ran.set(e.slot, [...new Set([...(this.ran.get(e.slot) ?? []), e.file])]);
    });
  }

  /** The slot takes no more files: close its worker's connections and look for what its code left open. */
  finish(pool: SlotPool): void {
    if (this.found.has(pool.slot)) return;
    this.found.set(pool.slot, this.closeAndLook(pool));
  }

  /** Whether finish() was called for the slot (its worker ran its close task: it loads no more files). */
  finished(pool: SlotPool): boolean {
    return this.found.has(pool.slot);
  }

  /**
   * Every worker closed (the ones still open now), then the leaks reported in slot order, whatever order the slots
   * finished in: `used` are the slots that ran files.
   */
  async all(pools: readonly SlotPool[], used: readonly SlotPool[]): Promise<void> {
    await Promise.all(pools.map((p) => p.closeConnection()));
    for (const p of used) this.finish(p);
    await Promise.all(used.map((p) => this.found.get(p.slot)));
    // A worker that closed early lives on until here: what its code threw since is still its files' error.
    await Promise.all(used.map((p) => p.takeLate()));
    for (const p of used) {
      const leak = await (this.found.get(p.slot) ?? Promise.resolve({ count: 0, applicationNames: [] }));
      const files = this.ran.get(p.slot) ?? [];
      if (leak.count > 0) this.o.bus.emit({ type: 'leak', file: files.join(', '), slot: p.slot, incarnation: p.incarnation, count: leak.count, applicationNames: leak.applicationNames });
    }
  }

  /*
   * Sessions a worker's code still holds once the worker has closed (after its afterAll hooks), found on the slot's
   * database: a pool an app keeps for the worker's lifetime is open after every file by design, so checking after
   * each file reported it as a leak every time (and waited out the grace period on the critical path).
   */
  private async closeAndLook(pool: SlotPool): Promise<Found> {
    const closed = await pool.closeConnection();
    const none = { count: 0, applicationNames: [] };
    const found = this.o.leaks === 'ignore' ? none : await this.o.resources.leaks(pool.slot, this.o.slotPids(pool.slot), closed?.held ?? []).catch(() => none);
    // Its database goes now, beside the other slots' last files, not in the teardown after the slowest one.
    await this.o.resources.release(pool.slot).catch(() => undefined);
    return found;
  }
}
