// The leak detector: a spec file that opens a pg.Pool, uses it and never ends it shows in the leak report (when its
// worker closes) with the number of sessions it left open, and at the end of the run those sessions are ended server-side:
// none is left, and none is dropped mid-transaction (no "unexpected EOF" in the server log).
import { expect } from 'chai';
import { bulkheadSessions, closingLine, fixture, query } from '../helpers/fixture.js';
import { watchServer } from '../helpers/server.js';
import { createTarget, runOn } from './support.js';
import type { Target } from './support.js';

const FILES = {
  // Three sessions: two idle in the pool, one checked out and left inside a transaction. The reset rule ends that one
  // after the test (an open transaction), so two are left to leak.
  'test/a-leak.spec.js': `import pg from 'pg';
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 5 });
describe('leaky', function () {
  it('uses a pool and never ends it', async () => {
    const clients = await Promise.all([pool.connect(), pool.connect(), pool.connect()]);
    for (const c of clients) await c.query('SELECT 1');
    clients[0].release();
    clients[1].release();
    await clients[2].query('BEGIN');
    await clients[2].query('SELECT 2');
  });
});
`,
  // A well-behaved pool and the worker's own connection are not leaks.
  'test/b-tidy.spec.js': `import pg from 'pg';
import { db } from 'bulkhead';
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
describe('tidy', function () {
  after(() => pool.end());
  it('uses db() and a pool it ends', async () => {
    await (await db()).query('SELECT 1');
    await Promise.all([pool.query('SELECT 1'), pool.query('SELECT 2')]);
  });
});
`,
};

describe('databases: leak report', function () {
  let target: Target;
  before(async function () {
    target = await createTarget('leak');
  });
  after(async function () {
    await target.drop();
  });

  for (const [isolation, workers] of [['database', '2'], ['shared', '1']] as const) {
    it(`names the file that left a pool open, with its count, and the server is left clean (${isolation})`, async function () {
      const fx = fixture(FILES);
      try {
        const watch = await watchServer(target.name);
        const r = await runOn(target, fx, ['-w', workers, '--isolation', isolation, 'test/*.spec.js']);
        expect(r.code, r.output).to.equal(0);
        expect(closingLine(r.output), r.output).to.deep.equal({ passed: 2, failed: 0, skipped: 0 });
        expect(r.output).to.match(/^leaked connections: 2 \(still open when the worker closed, after its afterAll hooks; bulkhead ended them\)$/m);
        expect(r.output).to.match(/^application sessions ended: 1 /m);
        expect(r.output).to.include('after test "leaky uses a pool and never ends it": left a transaction open (idle in transaction)');
        // Found when the worker closed: the line names the worker and the files it ran.
        const lines = r.output.split('\n').filter((l) => /^ {2}w\d+: \d+ session/.test(l));
        expect(lines, r.output).to.have.lengthOf(1);
        expect(lines[0]).to.match(/^ {2}w(\d): 2 session\(s\) left open \[bulkhead:w\1:app\], after (test\/b-tidy\.spec\.js, )?test\/a-leak\.spec\.js(, test\/b-tidy\.spec\.js)?$/);
        // No session of the run is left on the target or any database made from it...
        const left = await query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE starts_with(datname, $1) AND application_name <> 'bulkhead-spec'", [target.name]);
        expect(left[0]?.n).to.equal(0);
        expect(await bulkheadSessions(target.name)).to.equal(0);
        // ...and none was abandoned by a dying worker thread: bulkhead ended them itself.
        const server = await watch.check();
        expect(server.eof, 'server log lines').to.deep.equal([]);
        if (isolation === 'shared') expect(server.abandoned, 'sessions abandoned on the target').to.equal(0);
      } finally {
        fx.remove();
      }
    });
  }
});
