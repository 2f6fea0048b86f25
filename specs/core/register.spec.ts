// `mocha --require bulkhead/register`: plain serial mocha gets the same lazy connection and reset rule, and
// the connection is closed with a goodbye when the run ends.
import { expect } from 'chai';
import { fixture, runMocha, specOutcomes } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';
import { CLEAN, scratchPerSuite, watchServer } from '../helpers/server.js';
import type { ServerState } from '../helpers/server.js';

const SUITE = `import { db } from 'bulkhead';
import pg from 'pg';
import { expect } from 'chai';

async function bulkheadSessions() {
  const probe = new pg.Client({ connectionString: process.env.DATABASE_URL, application_name: 'register-probe' });
  await probe.connect();
  try {
    const { rows } = await probe.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE 'bulkhead:%' AND datname = current_database()");
    return rows[0].n;
  } finally {
    await probe.end();
  }
}

let firstPid;
describe('register', function () {
  it('has no connection before the first db() call', async () => {
    expect(await bulkheadSessions()).to.equal(0);
  });
  it('connects on the first db() call', async () => {
    const c = await db();
    firstPid = (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    expect(await bulkheadSessions()).to.equal(1);
  });
  it('breaks its connection with a database error', async () => {
    const c = await db();
    await c.query('BEGIN');
    await c.query('SELECT 1/0');
  });
  it('passes on a fresh connection', async () => {
    const c = await db();
    expect(c.getTransactionStatus()).to.equal('I');
    const { rows } = await c.query('SELECT pg_backend_pid() AS pid');
    expect(rows[0].pid).to.not.equal(firstPid);
  });
});
`;

describe('register: bulkhead/register in plain serial mocha', function () {
  const scratch = scratchPerSuite('register');
  let r: CliResult;
  let server: ServerState;
  before(async function () {
    const fx = fixture({ 'test/register.spec.js': SUITE });
    try {
      const watch = await watchServer(scratch().name);
      r = await runMocha(['--require', 'bulkhead/register', '--timeout', '10000', 'test/register.spec.js'], { cwd: fx.dir, env: { DATABASE_URL: scratch().url } });
      server = await watch.check();
    } finally {
      fx.remove();
    }
  });

  it('connects lazily, and after the database error the next test passes on a fresh connection', function () {
    expect(specOutcomes(r.output), r.output).to.deep.equal({
      passed: ['has no connection before the first db() call', 'connects on the first db() call', 'passes on a fresh connection'],
      failed: ['breaks its connection with a database error'],
    });
    expect(r.code).to.equal(1);
  });

  it('closes the connection when the run ends: no session left, none abandoned', function () {
    expect(server).to.deep.equal(CLEAN);
  });
});
