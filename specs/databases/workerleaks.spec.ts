// Leaks are judged when a worker closes, not after every file: an application pool kept at module level for the
// worker's lifetime (the usual shape) is open after every file by design. What is still open once the worker has
// closed is reported once per worker, and the config key `leaks` makes it fail the run or silences it.
import { expect } from 'chai';
import { runProjects } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';

const APP = {
  'app/pool.js': "import pg from 'pg';\nexport const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 });\n",
  'test/a.spec.js': "import { pool } from '../app/pool.js';\ndescribe('a', function () { it('queries the app pool', async function () { await Promise.all([pool.query('SELECT 1'), pool.query('SELECT 2')]); }); });\n",
  'test/b.spec.js': "import { pool } from '../app/pool.js';\ndescribe('b', function () { it('queries the app pool again', async function () { await Promise.all([pool.query('SELECT 3'), pool.query('SELECT 4')]); }); });\n",
};

/** The pool is ended when the worker stops, as an app that owns its pool for the worker's lifetime does. */
const ENDS_AT_STOP = "export default { async onWorkerStop() { const { pool } = await import('./app/pool.js'); await pool.end(); } };\n";

const ARGS = ['-w', '1', '--isolation', 'database'];

describe('databases: leaks are judged when the worker closes', function () {
  this.timeout(120_000);
  let get: (name: 'endedAtStop' | 'kept' | 'keptFail' | 'keptIgnore') => CliResult;

  before(async function () {
    get = await runProjects({
      endedAtStop: { args: ARGS, files: { ...APP, 'bulkhead.config.js': ENDS_AT_STOP } },
      kept: { args: ARGS, files: APP },
      keptFail: { args: ARGS, files: { ...APP, 'bulkhead.config.json': '{ "leaks": "fail" }\n' } },
      keptIgnore: { args: ARGS, files: { ...APP, 'bulkhead.config.json': '{ "leaks": "ignore" }\n' } },
    });
  });

  it('a module-level pool used by two files and ended when the worker stops is no leak', function () {
    const r = get('endedAtStop');
    expect(r.code, r.output).to.equal(0);
    expect(r.output).to.match(/^2 passed, 0 failed$/m);
    expect(r.output).to.not.include('leaked connections');
  });

  it('one left open is reported once, for the worker, naming the files it ran (default: report)', function () {
    const r = get('kept');
    expect(r.code, r.output).to.equal(0);
    expect(r.output).to.match(/^leaked connections: 2 \(still open when the worker closed, after its afterAll hooks; bulkhead ended them\)$/m);
    const lines = r.output.split('\n').filter((l) => /^ {2}w\d+.*session\(s\) left open/.test(l));
    expect(lines).to.deep.equal(['  w1: 2 session(s) left open [bulkhead:w1:app], after test/a.spec.js, test/b.spec.js']);
  });

  it("leaks: 'fail' fails the run and says why; leaks: 'ignore' says nothing", function () {
    const fail = get('keptFail');
    expect(fail.code, fail.output).to.equal(1);
    expect(fail.output).to.match(/^2 passed, 0 failed$/m);
    expect(fail.output).to.match(/^leaked connections: 2 \(.*; leaks: 'fail' fails the run\)$/m);
    const ignore = get('keptIgnore');
    expect(ignore.code, ignore.output).to.equal(0);
    expect(ignore.output).to.not.include('leaked connections');
  });
});
