// The worker's connection: created lazily, named after its slot, shaped only by the user's onConnect hook
// (which runs again on every rebuilt connection), and never wrapped in a transaction by the harness.
import { expect } from 'chai';
import { fixture, runCli, specOutcomes } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';
import { rebuilds } from '../helpers/output.js';
import { scratchPerSuite } from '../helpers/server.js';

// Counts the sessions a slot's worker holds, from a client of the test's own.
const PROBE = `import pg from 'pg';
export async function sessionsOf(slot) {
  const probe = new pg.Client({ connectionString: process.env.DATABASE_URL, application_name: 'connection-probe' });
  await probe.connect();
  try {
    const { rows } = await probe.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()', ['bulkhead:w' + slot]);
    return rows[0].n;
  } finally {
    await probe.end();
  }
}
`;

const SESSION = {
  'test/probe.js': PROBE,
  // Slot 1 (files are dispatched in path order, one per worker to start with).
  'test/a-uses-db.spec.js': `import { db, workerSlot } from 'bulkhead';
import pg from 'pg';
import { expect } from 'chai';
import { sessionsOf } from './probe.js';

const slot = process.env.BULKHEAD_WORKER;
describe('uses db', function () {
  it('has no connection before its first db() call', async () => {
    expect(await sessionsOf(slot)).to.equal(0);
  });
  it('is named bulkhead:w<slot>, the slot in BULKHEAD_WORKER and workerSlot()', async () => {
    expect(slot).to.equal('1');
    expect(workerSlot()).to.equal(1);
    const { rows } = await (await db()).query('SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()');
    expect(rows[0].application_name).to.equal('bulkhead:w1');
  });
  it('has no session parameter a plain client does not have, beyond application_name', async () => {
    const sql = "SELECT name, setting FROM pg_settings WHERE source NOT IN ('default', 'override', 'configuration file') AND name <> 'application_name' ORDER BY name";
    const mine = (await (await db()).query(sql)).rows;
    const plain = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await plain.connect();
    try {
      expect(mine).to.deep.equal((await plain.query(sql)).rows);
    } finally {
      await plain.end();
    }
  });
  it('is not inside a transaction', async () => {
    const c = await db();
    expect(c.getTransactionStatus()).to.equal('I');
    const { rows } = await c.query('SELECT now() = statement_timestamp() AS fresh, txid_current_if_assigned() AS xid');
    expect(rows[0]).to.deep.equal({ fresh: true, xid: null });
  });
});
`,
  // Slot 2, which never calls db().
  'test/b-no-db.spec.js': `import { expect } from 'chai';
import { sessionsOf } from './probe.js';

it('opens no connection on a worker whose tests never call db()', async () => {
  expect(process.env.BULKHEAD_WORKER).to.equal('2');
  expect(await sessionsOf(2)).to.equal(0);
});
`,
};

const ON_CONNECT = {
  'bulkhead.config.js': "export default {\n  onConnect: async (client) => {\n    await client.query('SET search_path TO onconnect_schema, public');\n    console.log('ON-CONNECT');\n  },\n};\n",
  'test/hook.spec.js': `import { db } from 'bulkhead';
import { expect } from 'chai';

let firstPid;
async function searchPath() {
  const { rows } = await (await db()).query("SELECT current_setting('search_path') AS path, pg_backend_pid() AS pid");
  return rows[0];
}
describe('onConnect', function () {
  it('sees the search_path its hook set', async () => {
    const { path, pid } = await searchPath();
    expect(path).to.equal('onconnect_schema, public');
    firstPid = pid;
  });
  it('breaks the connection', async () => {
    await (await db()).query('SELECT 1/0');
  });
  it('sees it again on the rebuilt connection', async () => {
    const { path, pid } = await searchPath();
    expect(path).to.equal('onconnect_schema, public');
    expect(pid).to.not.equal(firstPid);
  });
});
`,
};

describe('connection: the worker connection', function () {
  const forSession = scratchPerSuite('connection');
  const forHook = scratchPerSuite('onconnect');
  let session: CliResult;
  let hook: CliResult;

  before(async function () {
    const a = fixture(SESSION);
    const b = fixture(ON_CONNECT);
    try {
      [session, hook] = await Promise.all([
        runCli(['-w', '2', '--timeout', '10000'], { cwd: a.dir, env: { DATABASE_URL: forSession().url } }),
        runCli(['-w', '1', '--timeout', '10000'], { cwd: b.dir, env: { DATABASE_URL: forHook().url } }),
      ]);
    } finally {
      a.remove();
      b.remove();
    }
  });

  it('is lazy, named bulkhead:w<slot>, sets no other session parameter and opens no transaction', function () {
    expect(specOutcomes(session.output).failed, session.output).to.deep.equal([]);
    expect(specOutcomes(session.output).passed).to.have.length(5);
    expect(session.code).to.equal(0);
  });

  it('runs the onConnect hook of bulkhead.config.js on every new connection, including after a rebuild', function () {
    expect(specOutcomes(hook.output), hook.output).to.deep.equal({
      passed: ['sees the search_path its hook set', 'sees it again on the rebuilt connection'],
      failed: ['breaks the connection'],
    });
    expect(hook.output.match(/^ON-CONNECT$/gm)).to.have.length(2);
    expect(rebuilds(hook.output)?.total).to.equal(1);
  });
});
