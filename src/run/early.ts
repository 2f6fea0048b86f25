// Worker threads started before the server is reached: each thread spends ~150-250 ms of CPU loading mocha, pg and
// bulkhead before it can take a file, which used to begin only once the target was open (the embedded server
// started), global setup had run and the reporters were wired. A plain run (no --require module, whose
// mochaGlobalSetup may set what workers inherit) knows its files and its threads' settings from the configuration
// alone, so its threads boot meanwhile (issue 11: time to first test).
import type { Config } from '../config/types.js';
import { discover } from '../plan/discover.js';
import type { SpecFile } from '../plan/discover.js';
import { select } from '../plan/select.js';
import type { Selection } from '../plan/select.js';
import { startPools } from './dispatch.js';
import type { SlotPool } from './slotpool.js';

export interface EarlyStart {
  /** The discovered files and this job's selection of them, as runCommand would have found them. */
  files: SpecFile[];
  selection: Selection;
  /** The first session's threads: the first `workers` of them (the server may fit fewer); the rest close. */
  take(workers: number): SlotPool[] | null;
  /** Closes whatever was not handed over (idempotent; a session closes its own). */
  close(): Promise<void>;
}

export function earlyStart(config: Config, warn: (line: string) => void): EarlyStart | null {
  if (config.command !== 'run' || config.lastFailed || config.mocha.requires.length > 0) return null;
  const files = discover(config, warn);
  const selection = select(config, files);
  const n = Math.max(1, Math.min(config.workers, selection.files.length));
  const pools = selection.files.length === 0 ? [] : startPools(config, n, selection.files);
  let taken = false;
  return {
    files,
    selection,
    take(workers) {
      if (taken || pools.length === 0) return null;
      taken = true;
      for (const p of pools.slice(workers)) void p.close().catch(() => undefined);
      return pools.slice(0, workers);
    },
    close: async () => {
      await Promise.all(pools.map((p) => p.close().catch(() => undefined)));
    },
  };
}
