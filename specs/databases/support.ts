// Shared pieces of the database specs: throwaway target databases on the shared server (every one of them, and
// everything bulkhead derives from it, is dropped in after()), the provisioning line, and a cross-worker barrier
// that fixture suites import so that every worker is busy at once.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { query, runCli, SERVER_URL } from '../helpers/fixture.js';
import type { CliOptions, CliResult, Fixture } from '../helpers/fixture.js';

export interface Target {
  /** The database name (it contains "test", so bulkhead may provision next to it). */
  name: string;
  url: string;
  /** Rows of a query run on this database (or, with `database`, on another one of the same server). */
  rows<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[], database?: string): Promise<R[]>;
  /** The other databases whose name holds this one's random part: what bulkhead made from this target. */
  derived(): Promise<string[]>;
  /** Drops what bulkhead derived from the target, then the target itself. */
  drop(): Promise<void>;
}

export function urlOf(database: string): string {
  const url = new URL(SERVER_URL);
  url.pathname = `/${database}`;
  return url.href;
}

/** Lists databases whose name starts with `prefix`. */
export async function databasesStartingWith(prefix: string): Promise<string[]> {
  const rows = await query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY 1', [prefix]);
  return rows.map((r) => r.datname);
}

export async function dropDatabase(name: string): Promise<void> {
  await query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
}

/**
 * A fresh database named `<prefix>_<label>_<random>` (prefix "bulkhead_test" unless given), with `sql` applied.
 * Call in before() and drop() in after().
 */
export async function createTarget(label: string, sql = '', prefix = 'bulkhead_test'): Promise<Target> {
  const name = `${prefix}_${label}_${randomBytes(4).toString('hex')}`;
  await query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  const url = urlOf(name);
  if (sql !== '') await query(sql, [], url);
  // By the random part, not the prefix: a name bulkhead cannot use as it is gets a stem and a digest instead.
  const rand = name.slice(-8);
  const derived = async (): Promise<string[]> =>
    (await query<{ datname: string }>('SELECT datname FROM pg_database WHERE strpos(datname, $1) > 0 AND datname <> $2 ORDER BY 1', [rand, name])).map((r) => r.datname);
  return {
    name,
    url,
    rows: (text, params = [], database = name) => query(text, params, urlOf(database)),
    derived,
    async drop() {
      for (const db of await derived()) await dropDatabase(db);
      await dropDatabase(name);
    },
  };
}

/** Runs bulkhead in `fx` against `target` (DATABASE_URL), with extra environment variables. */
export function runOn(target: Target, fx: Fixture, args: readonly string[], env: NodeJS.ProcessEnv = {}, more: Partial<CliOptions> = {}): Promise<CliResult> {
  return runCli(args, { cwd: fx.dir, env: { DATABASE_URL: target.url, ...env }, ...more });
}

export interface Provisioning {
  isolation: string;
  template: number;
  /** "(setup ran)", "(reused)" or "" */
  note: string;
  /** Milliseconds per slot, in slot order. */
  perSlot: number[];
  /** Wall time of provisioning all slots. */
  slots: number;
}

/** The line "bulkhead: provisioning (database): template N ms (setup ran); w1 N ms, w2 N ms; all slots N ms". */
export function provisioning(output: string): Provisioning | null {
  const m = /^bulkhead: provisioning \((\w+)\): template (\d+) ms( \((?:setup ran|reused)\))?; (.*); all slots (\d+) ms$/m.exec(output);
  if (m === null) return null;
  const perSlot: number[] = [];
  for (const [i, part] of (m[4] ?? '').split(', ').entries()) {
    const slot = /^w(\d+) (\d+) ms$/.exec(part);
    if (slot === null || Number(slot[1]) !== i + 1) return null;
    perSlot.push(Number(slot[2]));
  }
  return { isolation: m[1] ?? '', template: Number(m[2]), note: (m[3] ?? '').trim(), perSlot, slots: Number(m[5]) };
}

/**
 * Fixture module `test/barrier.js`: `await barrier(n)` returns once n callers of this run (BARRIER_RUN) have
 * arrived, so n files that call it first are certainly running at once, each on its own worker. It waits on
 * LISTEN/NOTIFY on the database named by COORD_URL (table arrivals), never on time. Fixtures that call it set a
 * generous mocha timeout: a worker that boots late on a busy machine must not fail the test.
 */
export const BARRIER_JS = `import pg from 'pg';

export async function barrier(n) {
  const c = new pg.Client({ connectionString: process.env.COORD_URL, application_name: 'spec-barrier' });
  await c.connect();
  try {
    let wake = () => undefined;
    c.on('notification', () => wake());
    await c.query('LISTEN arrivals');
    await c.query('INSERT INTO arrivals (run) VALUES ($1)', [process.env.BARRIER_RUN]);
    await c.query('NOTIFY arrivals');
    for (;;) {
      const woke = new Promise((resolve) => { wake = resolve; });
      const { rows } = await c.query('SELECT count(*)::int AS n FROM arrivals WHERE run = $1', [process.env.BARRIER_RUN]);
      if (rows[0].n >= n) return;
      await woke;
    }
  } finally {
    await c.end();
  }
}
`;

/** The table BARRIER_JS needs, on the coordination database. */
export const BARRIER_SQL = 'CREATE TABLE arrivals (run text NOT NULL)';

/** Environment for a run whose fixtures use the barrier on `coord`. */
export function barrierEnv(coord: Target): NodeJS.ProcessEnv {
  return { COORD_URL: coord.url, BARRIER_RUN: randomBytes(6).toString('hex') };
}

/**
 * Fixture spec file for a -w 2 run: its one test runs until the other slot's database is dropped (that slot closed
 * and was released), writes ../released, and with `thenThrown` then waits for ../thrown. Waits on the catalog.
 */
export const untilReleased = (thenThrown: boolean): string => `import { existsSync, writeFileSync } from 'node:fs';
import pg from 'pg';
const released = new URL('../released', import.meta.url);
const thrown = new URL('../thrown', import.meta.url);
describe('long', function () {
  this.timeout(30000);
  it("runs until the other slot was released", async () => {
    const mine = process.env.PGDATABASE;
    const other = mine.replace(/_w(\\d+)$/, (_m, n) => '_w' + (n === '1' ? '2' : '1'));
    if (other === mine) throw new Error('not a slot database: ' + mine);
    const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await c.connect();
    try {
      for (;;) {
        const { rows } = await c.query('SELECT count(*)::int AS n FROM pg_database WHERE datname = $1', [other]);
        if (rows[0].n === 0) break;
        await c.query('SELECT pg_sleep(0.02)');
      }
      writeFileSync(released, '');
      while (${thenThrown} && !existsSync(thrown)) await c.query('SELECT pg_sleep(0.02)');
    } finally {
      await c.end();
    }
  });
});
`;
