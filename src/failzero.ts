// --fail-zero: mocha fails a run in which no test was found. Each file runs in its own Mocha here, so no single
// runner sees the whole run's total; the run record (written by every run command) does, and this reads it.
import path from 'node:path';
import type { Config } from './config.js';
import { errors } from './errors.js';
import type { BulkheadError } from './errors.js';
import { readRecord } from './record.js';
import { LAST_RUN } from './run.js';

/** The --fail-zero error for a run that started at `startedAt` (ms since the epoch), or null when tests were found. */
export function failZero(config: Config, startedAt: number): BulkheadError | null {
  if (!config.failZero || config.command !== 'run') return null;
  const filters = [
    ...(config.mocha.grep !== undefined ? ['--grep'] : []),
    ...(config.mocha.fgrep !== undefined ? ['--fgrep'] : []),
    ...(config.mocha.invert ? ['--invert'] : []),
    ...(config.lastFailed ? ['--last-failed'] : []),
  ];
  let found = 0;
  try {
    const record = readRecord(path.join(config.root, LAST_RUN));
    // A record from an earlier run means this one ran no session at all (--last-failed with nothing to run).
    if (Date.parse(record.createdAt) >= startedAt) {
      const o = record.outcome;
      found = o.passed + o.failed + o.skipped + o.notRun;
    }
  } catch {
    found = 0;
  }
  return found === 0 ? errors.failZero(filters) : null;
}
