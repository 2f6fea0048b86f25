// One maintenance session (bulkhead:main) per command, shared by everything the main thread does on the server.
// When several slots' watchdogs fire at once, each ends its worker's backends through that one session: none
// opens a session of its own, so none is left behind to be dropped without a goodbye when bulkhead exits.
// The session lives on the "postgres" database, so this runs on a cluster of its own, where everything that
// happens on "postgres" is ours to count.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { fixture, runCli, specOutcomes } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';
import { CLEAN, watchServer } from '../helpers/server.js';
import type { ServerState } from '../helpers/server.js';
import { startCluster } from '../helpers/cluster.js';
import type { Cluster } from '../helpers/cluster.js';

const TARGET = 'maint_test';
const SLOTS = 3;

/*
 * Every file waits in its before() hook until all slots are there (LISTEN/NOTIFY on a connection of its own,
 * closed again), then blocks its event loop: the three test watchdogs are armed within a millisecond or two of
 * each other, and fire together.
 */
const blockingFile = (n: number): string => `import pg from 'pg';
import { db } from 'bulkhead';

async function allSlotsHere() {
  const c = new pg.Client({ connectionString: process.env.BARRIER_URL });
  await c.connect();
  try {
    // Every arrival notifies and every waiter counts again: two inserts committed at once each count only
    // themselves and the rows before them, so "the last one notifies" could leave everyone waiting.
    let wake = () => undefined;
    c.on('notification', () => wake());
    await c.query('LISTEN slots_here');
    await c.query('INSERT INTO arrivals VALUES ($1)', [${n}]);
    await c.query('NOTIFY slots_here');
    for (;;) {
      const woke = new Promise((resolve) => { wake = resolve; });
      const { rows } = await c.query('SELECT count(*)::int AS n FROM arrivals');
      if (rows[0].n >= ${SLOTS}) return;
      await woke;
    }
  } finally {
    await c.end();
  }
}

describe('file ${n}', function () {
  before(async function () {
    await (await db()).query('SELECT 1');
    await allSlotsHere();
  });
  it('blocks its worker ${n}', function () {
    for (;;) {}
  }).timeout(300);
});
`;

describe('databases: one maintenance session for the whole command', function () {
  this.timeout(180000);
  let cluster: Cluster;
  let r: CliResult;
  let record: { outcome: { passed: number; failed: number } } | null;
  const state: Record<'postgres' | 'target', ServerState | null> = { postgres: null, target: null };

  before(async function () {
    // %u@%d in every line: the "unexpected EOF" lines are told apart by database.
    cluster = await startCluster({ log_line_prefix: "'%m [%p] %q%u@%d '" });
    await cluster.query(`CREATE DATABASE ${TARGET}`);
    await cluster.query('CREATE TABLE arrivals (slot int NOT NULL)', [], TARGET);
    const files = Object.fromEntries(Array.from({ length: SLOTS }, (_, i) => [`test/f${i + 1}.spec.js`, blockingFile(i + 1)]));
    const fx = fixture(files);
    try {
      const on = { url: cluster.url('postgres'), log: cluster.log };
      const watchPostgres = await watchServer('postgres', on);
      const watchTarget = await watchServer(TARGET, on);
      r = await runCli(['-w', String(SLOTS), '--timeout', '20000', 'test/*.spec.js'], {
        cwd: fx.dir,
        env: { DATABASE_URL: cluster.url(TARGET), BARRIER_URL: cluster.url(TARGET) },
      });
      state.postgres = await watchPostgres.check();
      state.target = await watchTarget.check();
      const file = path.join(fx.dir, '.bulkhead', 'last-run.json');
      record = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as typeof record) : null;
    } finally {
      fx.remove();
    }
  });
  after(function () {
    cluster?.destroy();
  });

  it('every slot reached its blocking test, and each watchdog failed it and replaced the worker', async function () {
    expect(await cluster.query('SELECT slot FROM arrivals ORDER BY slot', [], TARGET)).to.deep.equal([1, 2, 3].map((slot) => ({ slot })));
    const titles = Array.from({ length: SLOTS }, (_, i) => `blocks its worker ${i + 1}`);
    expect(specOutcomes(r.output).failed.sort(), r.output).to.deep.equal(titles);
    const killed = r.output.split('\n').filter((line) => /^\s*WorkerCrash: file \d blocks its worker \d exceeded its timeout of 300 ms without yielding the event loop/.test(line));
    expect(killed, r.output).to.have.length(SLOTS);
    expect(record?.outcome, r.output).to.include({ passed: 0, failed: SLOTS });
    expect(r.output).to.not.include('internal error');
    expect(r.code, r.output).to.equal(1);
  });

  it('leaves no maintenance session behind and abandons none (no "unexpected EOF" on "postgres")', function () {
    expect(state.postgres, r.output).to.deep.equal(CLEAN);
  });

  it('leaves nothing on the target and its slot databases either', async function () {
    expect(state.target, r.output).to.deep.equal(CLEAN);
    expect(await cluster.query("SELECT datname FROM pg_database WHERE datname LIKE '%bulkhead%'")).to.deep.equal([]);
  });
});

describe('databases: a server without a "postgres" database', function () {
  this.timeout(180000);
  const FALLBACK = 'nopg_test';
  let cluster: Cluster;
  let r: CliResult;

  before(async function () {
    cluster = await startCluster();
    await cluster.query(`CREATE DATABASE ${FALLBACK}`);
    await cluster.query("CREATE TABLE marks (v text NOT NULL); INSERT INTO marks VALUES ('seed')", [], FALLBACK);
    await cluster.query('DROP DATABASE postgres', [], FALLBACK);
    // Each file sees the target's rows in its own copy, and reports where the harness's sessions are.
    const file = (n: number): string => `import { expect } from 'chai';
import { db } from 'bulkhead';
describe('file ${n}', function () {
  it('works on a copy of the target ${n}', async () => {
    const c = await db();
    expect((await c.query('SELECT v FROM marks')).rows).to.deep.equal([{ v: 'seed' }]);
    await c.query("INSERT INTO marks VALUES ('w${n}')");
    const { rows } = await c.query("SELECT datname FROM pg_stat_activity WHERE application_name = 'bulkhead:main'");
    console.log('MAIN ' + JSON.stringify(rows.map((r) => r.datname)));
  });
});
`;
    const fx = fixture({ 'test/a.spec.js': file(1), 'test/b.spec.js': file(2) });
    try {
      r = await runCli(['-w', '2', 'test/*.spec.js'], { cwd: fx.dir, env: { DATABASE_URL: cluster.url(FALLBACK) } });
    } finally {
      fx.remove();
    }
  });
  after(function () {
    cluster?.destroy();
  });

  it('copies the target from the one maintenance session, which lives on the target itself', function () {
    expect(r.code, r.output).to.equal(0);
    expect(specOutcomes(r.output).passed.sort(), r.output).to.deep.equal(['works on a copy of the target 1', 'works on a copy of the target 2']);
    const seen = [...r.output.matchAll(/^MAIN (.*)$/gm)].map((m) => JSON.parse(m[1] ?? 'null') as unknown);
    expect(seen, r.output).to.deep.equal([[FALLBACK], [FALLBACK]]);
  });

  it('leaves the target as it was, and no database or session of its own', async function () {
    expect(await cluster.query('SELECT v FROM marks', [], FALLBACK)).to.deep.equal([{ v: 'seed' }]);
    expect(await cluster.query("SELECT datname FROM pg_database WHERE datname LIKE '%bulkhead%'", [], FALLBACK)).to.deep.equal([]);
    expect(await cluster.query("SELECT application_name FROM pg_stat_activity WHERE application_name LIKE 'bulkhead:%'", [], FALLBACK)).to.deep.equal([]);
  });
});
