// Defect 6 of issue 10: running out of connection slots is acted on before anything starts. On a server with
// max_connections 30 (27 for roles without SUPERUSER) where other sessions hold 27, `-w 4` exits 3 with the numbers
// and the fix, not "internal error" from the middle of provisioning; with 19 held it runs on the 3 workers that fit,
// with a warning that says so, and every test passes.
import { expect } from 'chai';
import pg from 'pg';
import { CLEAN_SERVER, clusterPerFile, runOn } from './support.js';
import type { RunView } from './support.js';

/** Four files that use db(), as a suite that would like four workers. */
const FILES = Object.fromEntries(
  ['a', 'b', 'c', 'd'].map((name) => [
    `test/${name}.spec.js`,
    `import { expect } from 'chai';
import { db } from 'bulkhead';
describe('${name}', function () {
  it('reads its slot', async function () {
    const { rows } = await (await db()).query('SELECT current_database() AS d');
    expect(rows[0].d).to.match(/_bulkhead_w[0-9]$/);
  });
  it('writes and reads back', async function () {
    const c = await db();
    await c.query('CREATE TABLE IF NOT EXISTS t_${name} (v int)');
    await c.query('INSERT INTO t_${name} VALUES (1)');
    expect((await c.query('SELECT count(*)::int AS n FROM t_${name}')).rows[0].n).to.equal(1);
  });
});
`,
  ]),
);

describe('reliability: out of connection slots (issue 10, defect 6)', function () {
  this.timeout(60000);
  const rig = clusterPerFile({ max_connections: '30', superuser_reserved_connections: '3' });
  const holders: pg.Client[] = [];
  let full: RunView;
  let room: RunView;

  const hold = async (n: number): Promise<void> => {
    while (holders.length < n) {
      const c = new pg.Client({ connectionString: rig().cluster.url('postgres'), application_name: 'p10b-holder' });
      c.on('error', () => undefined);
      await c.connect();
      holders.push(c);
    }
    while (holders.length > n) await holders.pop()?.end();
  };

  before(async function () {
    await hold(27);
    full = await runOn(rig(), FILES, ['-w', '4', 'test/*.spec.js']);
    await hold(19);
    room = await runOn(rig(), FILES, ['-w', '4', 'test/*.spec.js']);
    await hold(0);
  });
  after(async function () {
    // Only when before() failed half way; clusterPerFile's after() may already have stopped the server.
    await Promise.all(holders.splice(0).map((c) => c.end().catch(() => undefined)));
  });

  it('27 of 27 taken: exit 3 before any test, with the numbers and the fix', function () {
    const r = full.r;
    expect(r.code, r.output).to.equal(3);
    expect(r.output).to.not.include('internal error');
    const line = r.stderr.split('\n').filter((l) => l.startsWith('bulkhead: '));
    expect(line, r.output).to.deep.equal([
      'bulkhead: 4 workers need up to 10 connections (2 per worker: its connection and a short-lived reaper; 2 for bulkhead itself), but the server ' +
        'allows 27 (max_connections 30 less 3 reserved) and 27 of them are in use by other sessions, which leaves 0. Even one worker needs 4: raise ' +
        "max_connections on the server (or the role's CONNECTION LIMIT), or close other sessions; pools that your specs open themselves need room on top of that.",
    ]);
    expect(full.recordText, 'no run, no record').to.equal(null);
    expect(full.server, r.output).to.deep.equal(CLEAN_SERVER);
  });

  it('19 taken: runs on the 3 workers that fit, says so once, every test passes, exit 0', function () {
    const r = room.r;
    expect(r.code, r.output).to.equal(0);
    expect(r.output.match(/warning: /g), r.output).to.have.length(1);
    expect(r.output).to.include(
      'bulkhead: warning: 4 workers need up to 10 connections (2 per worker, 2 for bulkhead itself), but the server allows 27 (max_connections 30 ' +
        'less 3 reserved) and 19 of them are in use by other sessions, which leaves 8; running on 3 workers. Close other sessions or raise max_connections to run on 4.',
    );
    expect(r.output).to.match(/^bulkhead: 4 files on 3 worker\(s\)/m);
    expect(room.record?.slots.length).to.equal(3);
    expect(Object.values(room.tests), r.output).to.deep.equal(Array(8).fill('passed'));
    expect(room.record?.outcome).to.include({ passed: 8, failed: 0, notRun: 0 });
    expect(room.server, r.output).to.deep.equal(CLEAN_SERVER);
  });
});
