// A test that times out while its query holds a row lock: the reset rule ends that backend before the next test,
// so the lock is released and the next test on the worker can take it.
import { expect } from 'chai';
import { fixture, runCli, specOutcomes } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';
import { rebuilds } from '../helpers/output.js';
import { CLEAN, scratchPerSuite, watchServer } from '../helpers/server.js';
import type { ServerState } from '../helpers/server.js';

const SUITE = `import { db } from 'bulkhead';
import pg from 'pg';

before(async () => {
  await (await db()).query('CREATE TABLE locked_rows (id int PRIMARY KEY); INSERT INTO locked_rows VALUES (1)');
});

describe('locks', function () {
  it('holds a row lock past its timeout', async function () {
    this.timeout(300);
    const c = await db();
    await c.query('BEGIN');
    await c.query('SELECT * FROM locked_rows WHERE id = 1 FOR UPDATE');
    await c.query('SELECT pg_sleep(30)');
  });

  it('locks the same row from a client of its own', async function () {
    // Without the reset rule the sleeping backend would hold the lock for 30 s: lock_timeout fails this test first.
    const own = new pg.Client({ connectionString: process.env.DATABASE_URL, application_name: 'locks-probe' });
    await own.connect();
    try {
      await own.query("SET lock_timeout = '5s'");
      await own.query('BEGIN');
      const { rows } = await own.query('SELECT id FROM locked_rows WHERE id = 1 FOR UPDATE');
      if (rows.length !== 1) throw new Error('row 1 is missing');
      await own.query('ROLLBACK');
    } finally {
      await own.end();
    }
  });
});
`;

describe('locks: a test that times out holding a row lock', function () {
  const scratch = scratchPerSuite('locks');
  let r: CliResult;
  let server: ServerState;
  before(async function () {
    const fx = fixture({ 'test/locks.spec.js': SUITE });
    try {
      const watch = await watchServer(scratch().name);
      r = await runCli(['-w', '1', '--timeout', '10000'], { cwd: fx.dir, env: { DATABASE_URL: scratch().url } });
      server = await watch.check();
    } finally {
      fx.remove();
    }
  });

  it('fails with its timeout, and the next test on the worker takes the same row lock', function () {
    expect(specOutcomes(r.output), r.output).to.deep.equal({ passed: ['locks the same row from a client of its own'], failed: ['holds a row lock past its timeout'] });
    expect(r.output).to.include('Timeout of 300ms exceeded');
    expect(r.code).to.equal(1);
  });

  it('reports the rebuild as a timeout during a query', function () {
    const seen = rebuilds(r.output);
    expect(seen?.list.map((b) => [b.title, b.why.split(' (')[0]]), r.output).to.deep.equal([['locks holds a row lock past its timeout', 'timed out during a query']]);
  });

  it('leaves the server clean', function () {
    expect(server).to.deep.equal(CLEAN);
  });
});
