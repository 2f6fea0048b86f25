// Two suites shaped like real ones (issue 11), and the one-file inner loop.
// - pools: 42 files whose modules each open a pg.Pool at load and never end it (allowExitOnIdle, so serial mocha
//   still exits), with skewed durations: the first file is a third of the whole.
// - timers: 31 files bound by timers, not the database, skewed: the last file in path order is a quarter of the
//   whole, so a runner that takes files in path order starts it last.
// - innerloop: one small spec file, for the second run of it on a warm embedded server.
import type { Suite } from './suites.js';

const pad = (n: number): string => String(n).padStart(2, '0');

/** Sleep per test of the long pools file and of the others, seconds: 20 × 0.1 = 2 s vs 41 × 4 × 0.025 = 4.1 s. */
export function pools(files = 42): Suite {
  const out: Record<string, string> = {};
  for (let f = 0; f < files; f++) {
    const name = `pools/f${pad(f)}.spec.js`;
    const [tests, sleep] = f === 0 ? [20, 0.1] : [4, 0.025];
    out[name] = `import pg from 'pg';
import { expect } from 'chai';
import { started } from '../support/mark.js';

// A module-level pool kept for the process's (or worker's) lifetime, as application code and test helpers do.
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2, allowExitOnIdle: true, application_name: 'bench:app' });
const RUN = process.env.BENCH_RUN ?? 'local';
const FILE = ${JSON.stringify(name)};

describe(FILE, function () {
  after(async function () {
    await pool.query('DELETE FROM bench_rows WHERE run = $1 AND file = $2', [RUN, FILE]);
  });
  for (let t = 0; t < ${tests}; t++) {
    it('stores and reads row ' + t, async function () {
      started();
      await pool.query('INSERT INTO bench_rows (run, file, test, v) VALUES ($1, $2, $3, $4)', [RUN, FILE, t, t]);
      await pool.query('SELECT pg_sleep(${sleep})');
      const { rows } = await pool.query('SELECT count(*)::int AS n FROM bench_rows WHERE run = $1 AND file = $2', [RUN, FILE]);
      expect(rows[0].n).to.equal(t + 1);
    });
  }
});
`;
  }
  return { name: 'pools', glob: 'pools/*.spec.js', files: out, tests: 20 + (files - 1) * 4, designedFailures: 0 };
}

export interface TimerShape {
  /** Seconds of timers per file, in path order. */
  seconds: number[];
}

/** 30 files × 6 tests × 100 ms, then one file of 6 s: 24 s in all; at 4 workers the floor is max(6, 24 / 4) = 6 s. */
export function timers(files = 31): Suite & TimerShape {
  const out: Record<string, string> = {};
  const seconds: number[] = [];
  for (let f = 0; f < files; f++) {
    const name = `timers/f${pad(f)}.spec.js`;
    const [tests, ms] = f === files - 1 ? [12, 500] : [6, 100];
    seconds.push((tests * ms) / 1000);
    out[name] = `import { expect } from 'chai';
import { started } from '../support/mark.js';

const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

describe(${JSON.stringify(name)}, function () {
  for (let t = 0; t < ${tests}; t++) {
    it('waits for a reply ' + t, async function () {
      started();
      const at = Date.now();
      await wait(${ms});
      expect(Date.now() - at).to.be.at.least(${ms - 5});
    });
  }
});
`;
  }
  return { name: 'timers', glob: 'timers/*.spec.js', files: out, tests: 30 * 6 + 12, designedFailures: 0, seconds };
}

/** The floor of a suite at `workers`: its longest file, or its whole spread evenly, whichever is longer (ms). */
export function floorMs(seconds: readonly number[], workers: number): number {
  const total = seconds.reduce((a, b) => a + b, 0);
  return Math.max(Math.max(...seconds), total / workers) * 1000;
}

export function innerLoop(): Suite {
  const name = 'innerloop/one.spec.js';
  const file = `import { expect } from 'chai';
import { db, started } from '../support/db.js';

describe('one file being edited', function () {
  for (let t = 0; t < 5; t++) {
    it('checks case ' + t, async function () {
      started();
      const { rows } = await (await db()).query('SELECT $1::int + 1 AS n', [t]);
      expect(rows[0].n).to.equal(t + 1);
    });
  }
});
`;
  return { name: 'innerloop', glob: name, files: { [name]: file }, tests: 5, designedFailures: 0 };
}
