// Everything the bench does to the PostgreSQL server itself: its own database (created, then dropped with FORCE),
// the bare-connect and bare-clone baselines, and the check that nothing is left behind. It only ever drops
// databases whose names it generated in this process.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { SCHEMA } from './suites.js';

export const ADMIN_URL = process.env['BENCH_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const APP = 'bench:admin';

/** The admin URL with another database name. */
export function urlFor(database: string, base = ADMIN_URL): string {
  const u = new URL(base);
  u.pathname = `/${database}`;
  return u.toString();
}

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;

export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>, application_name = APP): Promise<T> {
  const c = new pg.Client({ connectionString: url, application_name });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Databases this process created and has not dropped yet: dropped on every exit path by dropAll(). */
const created = new Set<string>();
export const runTag = randomBytes(3).toString('hex');

export async function createDatabase(suffix: string, template?: string): Promise<string> {
  const name = `bench_bulkhead_${runTag}_${suffix}`;
  await withClient(ADMIN_URL, (c) => c.query(`CREATE DATABASE ${quote(name)}${template !== undefined ? ` TEMPLATE ${quote(template)}` : ''}`));
  created.add(name);
  return name;
}

export async function dropDatabase(name: string): Promise<void> {
  await withClient(ADMIN_URL, (c) => c.query(`DROP DATABASE IF EXISTS ${quote(name)} WITH (FORCE)`));
  created.delete(name);
}

export async function dropAll(): Promise<string[]> {
  const names = [...created];
  for (const name of names) await dropDatabase(name).catch(() => undefined);
  return names;
}

/** The database the suites run in, with the tables they use. */
export async function createBenchDatabase(): Promise<{ name: string; url: string; server: string }> {
  // "test" in the name: bulkhead provisions per-worker databases only next to a database that says it is for tests.
  const name = await createDatabase('run_test');
  const url = urlFor(name);
  const server = await withClient(url, async (c) => {
    await c.query(SCHEMA);
    const r = await c.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    return r.rows[0]?.v ?? 'unknown';
  });
  return { name, url, server };
}

const now = (): number => performance.now();

/** A bare `new pg.Client().connect()`, timed alone, and a bare close + connect (what a rebuild minimally is). */
export async function bareConnects(url: string, n: number): Promise<{ connect: number[]; closeAndConnect: number[] }> {
  const connect: number[] = [];
  const closeAndConnect: number[] = [];
  let open: pg.Client | null = null;
  for (let i = 0; i < n; i++) {
    const t0 = now();
    if (open !== null) await open.end();
    const c = new pg.Client({ connectionString: url, application_name: 'bench:bare' });
    c.on('error', () => undefined);
    const t1 = now();
    await c.connect();
    const t2 = now();
    connect.push(t2 - t1);
    if (open !== null) closeAndConnect.push(t2 - t0);
    await c.query('SELECT 1');
    open = c;
  }
  if (open !== null) await open.end();
  return { connect, closeAndConnect };
}

/** A template like a small application schema: the suites' tables, 20 more with an index each, and 2,000 rows. */
async function buildTemplate(): Promise<string> {
  const name = await createDatabase('tpl');
  await withClient(urlFor(name), async (c) => {
    await c.query(SCHEMA);
    for (let k = 1; k <= 20; k++) {
      await c.query(`CREATE TABLE app_t${k} (id serial PRIMARY KEY, a text NOT NULL, b int NOT NULL, created timestamptz NOT NULL DEFAULT now())`);
      await c.query(`CREATE INDEX app_t${k}_b ON app_t${k} (b)`);
    }
    await c.query("INSERT INTO bench_users (run, file, email, name) SELECT 'tpl', 'tpl', 'u' || g || '@example.test', 'user ' || g FROM generate_series(1, 2000) g");
  });
  // CREATE DATABASE refuses (after polling for up to 5 s) a template with sessions: let ours finish exiting first,
  // so that wait is not measured as clone time.
  await withClient(ADMIN_URL, async (c) => {
    for (let i = 0; i < 100; i++) {
      const r = await c.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
      if (r.rows[0]?.n === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
  return name;
}

export interface CloneSample {
  slots: number;
  /** Each slot's CREATE DATABASE ... TEMPLATE, issued one after another. */
  sequential: number[];
  /** Wall time of all slots' clones issued at once (one admin connection each). */
  concurrentWall: number;
  /** bulkhead's own provisioning of the same slots from the same template: all slots' wall time (--verbose). */
  bulkheadWall: number | null;
}

/**
 * bulkhead's provisioning of `slots` slots from `template`, as its --verbose line reports it: the wall time of all
 * slots' clones (the per-run copy of the target is the template step, not counted). bulkhead drops what it makes.
 */
export type ProvisionProbe = (slots: number, targetUrl: string) => Promise<number | null>;

/**
 * Bare per-slot clones of one template, for `slots` slots, over `rounds` rounds, each next to bulkhead's own
 * provisioning of the same slots (`probe`); drops everything it makes.
 */
export async function bareClones(slotCounts: readonly number[], rounds: number, progress: (line: string) => void, probe: ProvisionProbe): Promise<CloneSample[]> {
  const template = await buildTemplate();
  const samples: CloneSample[] = [];
  try {
    // One clone first, not measured: the first read of the template's files is not what a slot pays.
    await dropDatabase(await createDatabase('warm', template));
    for (let r = 0; r < rounds; r++) {
      for (const slots of slotCounts) {
        const sequential: number[] = [];
        for (let s = 1; s <= slots; s++) {
          const t0 = now();
          const name = await createDatabase(`r${r}s${s}`, template);
          sequential.push(now() - t0);
          await dropDatabase(name);
        }
        const t0 = now();
        const names = await Promise.all(Array.from({ length: slots }, (_, s) => createDatabase(`r${r}c${s + 1}`, template)));
        const concurrentWall = now() - t0;
        for (const name of names) await dropDatabase(name);
        const bulkheadWall = await probe(slots, urlFor(template));
        samples.push({ slots, sequential, concurrentWall, bulkheadWall });
        progress(`  provisioning round ${r + 1}/${rounds}, ${slots} slot(s): ${sequential.map((x) => x.toFixed(0)).join('/')} ms sequential, ${concurrentWall.toFixed(0)} ms concurrent, bulkhead ${bulkheadWall?.toFixed(0) ?? '?'} ms`);
      }
    }
  } finally {
    await dropDatabase(template);
  }
  return samples;
}

/** What the bench left on the server: its databases and any session of bulkhead or of the bench. */
export async function leftovers(): Promise<{ databases: string[]; sessions: number }> {
  return withClient(ADMIN_URL, async (c) => {
    const dbs = await c.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`bench_bulkhead_${runTag}%`]);
    const s = await c.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE (application_name LIKE 'bench:%' AND application_name <> $1) OR datname LIKE $2",
      [APP, `bench_bulkhead_${runTag}%`],
    );
    return { databases: dbs.rows.map((r) => r.datname), sessions: s.rows[0]?.n ?? 0 };
  });
}
