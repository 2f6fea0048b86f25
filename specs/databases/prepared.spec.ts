// A prepared transaction (PREPARE TRANSACTION) outlives every session and keeps a database from being dropped.
// One that a test leaves in its slot database is rolled back when bulkhead drops the database, so the run and the
// next one are not blocked. The shared server allows no prepared transactions: this runs on a cluster of its own.
import { expect } from 'chai';
import { fixture, runCli } from '../helpers/fixture.js';
import { startCluster } from '../helpers/cluster.js';
import type { Cluster } from '../helpers/cluster.js';

const TARGET = 'twophase_test';

const FILES = {
  'test/a.spec.js': `import { db } from 'bulkhead';
describe('two-phase', function () {
  it('prepares a transaction and leaves it', async function () {
    const c = await db();
    await c.query('BEGIN');
    await c.query('INSERT INTO marks VALUES (1)');
    await c.query("PREPARE TRANSACTION 'left-by-a-test'");
  });
});
`,
  'test/b.spec.js': "describe('b', function () { it('runs beside it', function () {}); });\n",
};

describe('databases: prepared transactions left in a slot database', function () {
  this.timeout(180000);
  let cluster: Cluster;
  before(async function () {
    cluster = await startCluster({ max_prepared_transactions: '4' });
    await cluster.query(`CREATE DATABASE ${TARGET}`);
    await cluster.query('CREATE TABLE marks (v int NOT NULL)', [], TARGET);
  });
  after(function () {
    cluster?.destroy();
  });

  it('one left in the target itself is named when the target cannot be copied, with how to end it', async function () {
    await cluster.query("BEGIN; INSERT INTO marks VALUES (9); PREPARE TRANSACTION 'left-in-the-target'", [], TARGET);
    const fx = fixture(FILES);
    try {
      const r = await runCli(['-w', '2', '--isolation', 'database'], { cwd: fx.dir, env: { DATABASE_URL: cluster.url(TARGET) } });
      expect(r.code, r.output).to.equal(3);
      expect(r.stderr).to.include(`Cannot copy or drop database "${TARGET}": it holds a prepared transaction (PREPARE TRANSACTION 'left-in-the-target')`);
      expect(r.stderr).to.include("run ROLLBACK PREPARED (or COMMIT PREPARED) for 'left-in-the-target'");
      expect(r.stderr).to.not.include('0 other sessions');
    } finally {
      fx.remove();
      await cluster.query("ROLLBACK PREPARED 'left-in-the-target'", [], TARGET);
    }
    expect(await cluster.query("SELECT datname FROM pg_database WHERE datname LIKE '%bulkhead%'")).to.deep.equal([]);
  });

  it('are rolled back when the slot database is dropped: nothing is left, and the next run starts', async function () {
    const fx = fixture(FILES);
    try {
      const run = (): ReturnType<typeof runCli> => runCli(['-w', '2', '--isolation', 'database'], { cwd: fx.dir, env: { DATABASE_URL: cluster.url(TARGET) } });
      const first = await run();
      expect(first.code, first.output).to.equal(0);
      expect(first.stderr, first.output).to.not.include('could not drop');
      expect(await cluster.query('SELECT gid FROM pg_prepared_xacts')).to.deep.equal([]);
      expect(await cluster.query("SELECT datname FROM pg_database WHERE datname LIKE '%bulkhead%'")).to.deep.equal([]);
      const second = await run();
      expect(second.code, second.output).to.equal(0);
      expect(await cluster.query('SELECT v FROM marks', [], TARGET)).to.deep.equal([]);
    } finally {
      fx.remove();
    }
  });
});
