// The summary's cause for a flaky test follows what its failing attempt did: a retry runs on a fresh connection,
// which can cure a test that met a dirty session, but not one that never used the database (a timing or in-memory
// state failure). Saying "a fresh connection cured it" of that one would send its owner after the wrong cause.
import { expect } from 'chai';
import { fixture, runCli } from '../helpers/fixture.js';

const DB_FLAKY = `import { db } from 'bulkhead';
describe('db', function () {
  it('sets a session setting', async function () { await (await db()).query("SET app.flag = 'dirty'"); });
  it('reads a clean session', async function () {
    this.retries(1);
    const { rows } = await (await db()).query("SELECT current_setting('app.flag', true) AS flag");
    if (rows[0].flag === 'dirty') throw new Error('the session was left dirty');
  });
});
`;

// Fails its first attempt on a module-level counter, and passes the retry: no connection involved.
const MEMORY_FLAKY = `let calls = 0;
describe('memory', function () {
  it('passes the second time', function () {
    this.retries(1);
    calls += 1;
    if (calls === 1) throw new Error('first call');
  });
});
`;

const CURED = /^ {2}a fresh connection cured (it|1 of them): each retry runs on a new connection/m;
const NOT_DB = /^ {2}(it|1 of them) used no database connection in the attempt that failed, so the connection was not the cause/m;

describe('flaky: the summary names the cause the failing attempt allows', function () {
  this.timeout(60000);

  it('a test that never used the database is not said to be cured by a fresh connection', async function () {
    const fx = fixture({ 'test/memory.spec.js': MEMORY_FLAKY });
    try {
      const r = await runCli(['-w', '1'], { cwd: fx.dir });
      expect(r.output).to.include('flaky: 1\n  test/memory.spec.js: memory passes the second time (passed on attempt 2)\n');
      expect(r.output).to.not.include('a fresh connection cured');
      expect(/^ {2}it used no database connection in the attempt that failed.*; to find that test:$/m.test(r.output), r.output).to.equal(true);
      expect(r.output).to.include("    bulkhead bisect .bulkhead/last-run.json --test 'memory passes the second time'");
    } finally {
      fx.remove();
    }
  });

  it('with both kinds in one run, each cause counts its own tests', async function () {
    const fx = fixture({ 'test/db.spec.js': DB_FLAKY, 'test/memory.spec.js': MEMORY_FLAKY });
    try {
      const r = await runCli(['-w', '1', '--isolation', 'shared'], { cwd: fx.dir });
      expect(r.output).to.match(/^flaky: 2$/m);
      expect(r.output.match(CURED)?.[1], r.output).to.equal('1 of them');
      expect(r.output.match(NOT_DB)?.[1], r.output).to.equal('1 of them');
    } finally {
      fx.remove();
    }
  });
});
