// The reliability suite's rig: one ephemeral cluster per spec file (started in before(), destroyed in after()), a
// target database on it, and one helper that runs the real CLI on a fixture there and reports what every row of
// docs/reliability.md checks: the outcome of each test from the run record, the exit code, and what the server
// saw (bulkhead sessions left, sessions abandoned, "unexpected EOF" lines, databases left behind). The cluster is
// the spec's own, so everything on it is ours to count.
import { existsSync, readFileSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import path from 'node:path';
import { fixture, runCli } from '../helpers/fixture.js';
import type { CliOptions, CliResult, Fixture } from '../helpers/fixture.js';
import { startCluster } from '../helpers/cluster.js';
import type { Cluster } from '../helpers/cluster.js';

/** The target every run of a reliability spec works on ("test" in the name: bulkhead provisions only there). */
export const TARGET = 'p10a_rel_test';

/** Where serial mocha runs the same fixture for comparison, side by side with bulkhead: not counted by the checks. */
export const MOCHA_DB = 'p10a_mocha_test';

export interface Rig {
  cluster: Cluster;
  /** postgres://postgres@127.0.0.1:<port>/p10a_rel_test */
  url: string;
  /** The same cluster's database for serial mocha runs. */
  mochaUrl: string;
}

/** One cluster for the enclosing describe(), with the target database; the getter is valid once before() ran. */
export function clusterPerFile(settings: Record<string, string> = {}): () => Rig {
  let rig: Rig | null = null;
  before(async function () {
    this.timeout(60000);
    const cluster = await startCluster({ log_line_prefix: "'%m [%p] %q%u@%d '", ...settings });
    await cluster.query(`CREATE DATABASE ${TARGET}`);
    await cluster.query(`CREATE DATABASE ${MOCHA_DB}`);
    rig = { cluster, url: cluster.url(TARGET), mochaUrl: cluster.url(MOCHA_DB) };
  });
  after(function () {
    rig?.cluster.destroy();
  });
  return () => {
    if (rig === null) throw new Error('the reliability cluster is used before its before() hook ran');
    return rig;
  };
}

export interface RecordedTestView {
  title: string;
  state: string;
  reason?: string;
  error?: { message: string };
}

export interface RunView {
  r: CliResult;
  /** The run record as JSON text (null when none was written), and parsed. */
  recordText: string | null;
  record: { outcome: Record<string, unknown>; slots: { files: { file: string; tests: RecordedTestView[]; failures: { title: string; error: { message: string } }[] }[] }[]; notRunFiles: unknown[] } | null;
  /** Every recorded test by "file: title" with its state. */
  tests: Record<string, string>;
  server: ServerView;
}

export interface ServerView {
  /** bulkhead sessions still on the cluster, in any database. */
  sessions: number;
  /** pg_stat_database.sessions_abandoned gained by any database that is still there. */
  abandoned: number;
  /** "unexpected EOF" lines the log gained. */
  eof: string[];
  /** Databases whose name says bulkhead made them. */
  leftovers: string[];
}

/** What every reliability run must leave on the server. */
export const CLEAN_SERVER: ServerView = { sessions: 0, abandoned: 0, eof: [], leftovers: [] };

async function abandonedTotal(cluster: Cluster): Promise<number> {
  await cluster.query('SELECT pg_stat_force_next_flush()').catch(() => undefined);
  const rows = await cluster.query<{ n: string }>('SELECT coalesce(sum(sessions_abandoned), 0)::text AS n FROM pg_stat_database WHERE datname IS DISTINCT FROM $1', [MOCHA_DB]);
  return Number(rows[0]?.n ?? 0);
}

function logSince(log: string, offset: number): string {
  const size = statSync(log).size;
  const from = size < offset ? 0 : offset;
  const buf = Buffer.alloc(size - from);
  const fd = openSync(log, 'r');
  try {
    readSync(fd, buf, 0, buf.length, from);
  } finally {
    closeSync(fd);
  }
  return buf.toString('utf8');
}

/** Starts watching the whole cluster; `check()` tells what happened since. */
export async function watchCluster(cluster: Cluster): Promise<{ check(): Promise<ServerView> }> {
  const offset = statSync(cluster.log).size;
  const before = await abandonedTotal(cluster);
  return {
    async check() {
      const sessions = await cluster.query<{ n: string }>("SELECT count(*)::text AS n FROM pg_stat_activity WHERE application_name LIKE 'bulkhead:%' AND datname <> $1", [MOCHA_DB]);
      const dbs = await cluster.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE '%bulkhead%' ORDER BY 1");
      return {
        sessions: Number(sessions[0]?.n ?? 0),
        abandoned: (await abandonedTotal(cluster)) - before,
        eof: logSince(cluster.log, offset).split('\n').filter((l) => l.includes('unexpected EOF') && !l.includes(`@${MOCHA_DB} `)),
        leftovers: dbs.map((d) => d.datname),
      };
    },
  };
}

/** Reads `.bulkhead/last-run.json` (or another record) of a fixture, as text and parsed. */
export function readRun(fx: Fixture, rel = '.bulkhead/last-run.json'): Pick<RunView, 'recordText' | 'record' | 'tests'> {
  const file = path.join(fx.dir, rel);
  const recordText = existsSync(file) ? readFileSync(file, 'utf8') : null;
  const record = recordText === null ? null : (JSON.parse(recordText) as RunView['record']);
  const tests: Record<string, string> = {};
  for (const s of record?.slots ?? []) for (const f of s.files) for (const t of f.tests) tests[`${f.file}: ${t.title}`] = t.state;
  return { recordText, record, tests };
}

/**
 * Runs bulkhead in a fixture project against the rig's target, then looks at the server. `keep` leaves the
 * fixture for the caller to read more of (and remove).
 */
export async function runOn(rig: Rig, files: Record<string, string>, args: readonly string[], options: Partial<CliOptions> & { keep?: (fx: Fixture) => void } = {}): Promise<RunView> {
  const fx = fixture(files);
  const watch = await watchCluster(rig.cluster);
  try {
    const r = await runCli(args, { ...options, cwd: fx.dir, env: { DATABASE_URL: rig.url, ...options.env } });
    const server = await watch.check();
    const view = { r, ...readRun(fx), server };
    options.keep?.(fx);
    return view;
  } finally {
    if (options.keep === undefined) fx.remove();
  }
}
