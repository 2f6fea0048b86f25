// The run survives losing its own sessions or its server: when the maintenance session (bulkhead:main) is ended
// mid-run, or the server restarts or dies, every test is still reported, the summary and the run record are
// written, and teardown either drops the slot databases (on a new session) or names the ones it could not drop
// and how to drop them. These specs stop and restart servers, so they run on a cluster of their own.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { closingLine, fixture, runCli, specOutcomes } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';
import { notRun } from '../helpers/output.js';
import { CTL_JS, startCluster } from '../helpers/cluster.js';
import type { Cluster } from '../helpers/cluster.js';

const TARGET = 'life_test';

describe('databases: lifecycle when sessions or the server go away', function () {
  this.timeout(180000);
  let cluster: Cluster;
  before(async function () {
    cluster = await startCluster();
  });
  after(function () {
    cluster?.destroy();
  });
  beforeEach(async function () {
    await cluster.query(`CREATE DATABASE ${TARGET}`);
    await cluster.query(`CREATE TABLE marks (v int NOT NULL)`, [], TARGET);
  });
  afterEach(async function () {
    // Whatever a failed assertion left: the next case starts from a clean server.
    for (const { datname } of await cluster.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'life%'")) {
      await cluster.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
  });

  async function run(files: Record<string, string>, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ r: CliResult; record: unknown }> {
    const fx = fixture({ ...files, 'test/ctl.js': CTL_JS });
    try {
      const r = await runCli([...args, 'test/*.spec.js'], { cwd: fx.dir, env: { DATABASE_URL: cluster.url(TARGET), ...env } });
      const file = path.join(fx.dir, '.bulkhead', 'last-run.json');
      return { r, record: existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null };
    } finally {
      fx.remove();
    }
  }

  async function left(): Promise<{ databases: string[]; sessions: string[] }> {
    const databases = (await cluster.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE '%bulkhead%' ORDER BY 1")).map((r) => r.datname);
    const sessions = (await cluster.query<{ a: string }>("SELECT application_name AS a FROM pg_stat_activity WHERE application_name LIKE 'bulkhead:%'")).map((r) => r.a);
    return { databases, sessions };
  }

  it('the maintenance session is ended by a spec: leak checks, recloning and teardown reconnect', async function () {
    const { r, record } = await run(
      {
        'test/a-kill.spec.js': `import { db } from 'bulkhead';
describe('a', () => {
  it('ends the harness sessions', async () => {
    const { rows } = await (await db()).query("SELECT count(pg_terminate_backend(pid, 5000))::int AS n FROM pg_stat_activity WHERE application_name = 'bulkhead:main'");
    console.log('KILLED ' + rows[0].n);
  });
});
`,
        // A crash: the slot is cloned again, on the maintenance session, before the next file.
        'test/c-exit.spec.js': `import { db } from 'bulkhead';
describe('c', () => { it('writes, then exits', async () => { await (await db()).query('INSERT INTO marks VALUES (1)'); process.exit(3); }); });
`,
        'test/d-check.spec.js': `import { expect } from 'chai';
import { db } from 'bulkhead';
describe('d', () => { it('runs on a fresh clone', async () => { expect((await (await db()).query('SELECT * FROM marks')).rows).to.deep.equal([]); }); });
`,
        // Found only by the leak check when the worker closes, which runs on the maintenance session. (Leaks are judged
        // at a worker's close: a pool leaked before the crash dies with its thread, so this one comes after it.)
        'test/e-leak.spec.js': `import pg from 'pg';
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
describe('e', () => { it('leaks a pool', async () => { await pool.query('SELECT 1'); }); });
`,
      },
      ['-w', '1', '--isolation', 'database'],
    );
    expect(r.output).to.match(/^KILLED [1-9]/m);
    expect(r.output).to.not.include('internal error');
    expect(r.code, r.output).to.equal(1);
    expect(closingLine(r.output), r.output).to.deep.equal({ passed: 3, failed: 1, skipped: 0 });
    expect(r.output).to.match(/^leaked connections: 1/m);
    expect(r.output).to.not.match(/warning: could not drop/);
    expect((record as { outcome: { passed: number; failed: number } }).outcome).to.include({ passed: 3, failed: 1 });
    expect(await left()).to.deep.equal({ databases: [], sessions: [] });
  });

  it('the server restarts mid-run: later tests run on the restarted server, teardown drops the slots', async function () {
    const { r, record } = await run(
      {
        'test/a.spec.js': `import { db } from 'bulkhead';
import { ctl } from './ctl.js';
describe('a', function () {
  it('restarts the server', async () => {
    await (await db()).query('SELECT 1');
    ctl(process.env.CTL);
    console.log('RESTARTED');
  });
  it('runs after the restart', async () => { await (await db()).query('INSERT INTO marks VALUES (1)'); });
});
`,
        'test/b.spec.js': `import { db } from 'bulkhead';
describe('b', () => { it('runs too', async () => { await (await db()).query('SELECT 1'); }); });
`,
      },
      ['-w', '2'],
      { CTL: JSON.stringify(cluster.ctl('restart')) },
    );
    expect(r.output).to.match(/^RESTARTED$/m);
    expect(r.output).to.not.include('internal error');
    const closing = closingLine(r.output);
    expect(closing, r.output).to.not.equal(null);
    expect((closing?.passed ?? 0) + (closing?.failed ?? 0) + notRun(r.output).length, r.output).to.equal(3);
    // The restart cut the worker's connection: the next test gets a fresh one on the restarted server and passes.
    // (b runs on the other worker and may have met the restart itself.)
    expect(specOutcomes(r.output).passed, r.output).to.include('runs after the restart');
    expect(r.code, r.output).to.be.oneOf([0, 1]);
    expect(record, 'the run record').to.not.equal(null);
    expect(r.output).to.not.match(/warning: could not drop/);
    expect(await left()).to.deep.equal({ databases: [], sessions: [] });
  });

  it('the server is gone when a crashed slot needs a fresh clone: the failure is named, its later files are listed as not run', async function () {
    let r: CliResult;
    try {
      ({ r } = await run(
        {
          'test/a.spec.js': `import { db } from 'bulkhead';
import { ctl } from './ctl.js';
describe('a', function () {
  it('stops the server', async () => { await (await db()).query('SELECT 1'); ctl(process.env.CTL); });
});
`,
          'test/b.spec.js': "describe('b', () => { it('exits', () => { process.exit(1); }); });\n",
          'test/c.spec.js': "describe('c', () => { it('comes later', () => {}); });\n",
        },
        ['-w', '1', '--isolation', 'database'],
        { CTL: JSON.stringify(cluster.ctl('stop')) },
      ));
    } finally {
      cluster.start();
    }
    expect(r.output).to.not.include('internal error');
    expect(r.output).to.match(/preparing slot 1 again after test\/b\.spec\.js/);
    expect(r.output).to.include('slot 1 could not be prepared again after the crash, so it takes no more files');
    expect(notRun(r.output), r.output).to.deep.equal([{ file: 'test/c.spec.js', title: 'c comes later', reason: 'its slot could not be prepared again after a crash' }]);
    expect(r.code, r.output).to.equal(1);
    const again = await run({ 'test/a.spec.js': "describe('a', () => { it('passes', () => {}); });\n" }, ['-w', '1', '--isolation', 'database']);
    expect(again.r.code, again.r.output).to.equal(0);
    expect(await left()).to.deep.equal({ databases: [], sessions: [] });
  });

  it('the server dies mid-run: every test is reported, the summary and the record are written, exit 1, and the slots left are named', async function () {
    let r: CliResult;
    let record: unknown;
    try {
      ({ r, record } = await run(
        {
          'test/a.spec.js': `import { db } from 'bulkhead';
import { ctl } from './ctl.js';
describe('a', function () {
  it('stops the server', async () => {
    await (await db()).query('SELECT 1');
    ctl(process.env.CTL);
    console.log('STOPPED');
  });
  it('needs the server', async () => { await (await db()).query('SELECT 1'); });
});
`,
          'test/b.spec.js': `import { db } from 'bulkhead';
describe('b', () => { it('needs it too', async () => { await (await db()).query('SELECT 1'); }); });
`,
        },
        ['-w', '1', '--isolation', 'database'],
        { CTL: JSON.stringify(cluster.ctl('stop')) },
      ));
    } finally {
      cluster.start();
    }
    expect(r.output).to.match(/^STOPPED$/m);
    expect(r.output).to.not.include('internal error');
    expect(r.code, r.output).to.equal(1);
    const closing = closingLine(r.output);
    expect(closing, r.output).to.not.equal(null);
    expect(closing?.failed, r.output).to.be.at.least(2);
    expect((closing?.passed ?? 0) + (closing?.failed ?? 0) + notRun(r.output).length, r.output).to.equal(3);
    expect((record as { outcome: { failed: number } } | null)?.outcome.failed, 'the run record').to.equal(closing?.failed);
    // The warning names each database left, and how to drop it; they are still there, marked as bulkhead's.
    const slots = [`${TARGET}_bulkhead_w1`];
    expect(r.stderr).to.match(/^bulkhead: warning: could not drop the databases? .* this run created on 127\.0\.0\.1:\d+\/life_test as postgres/m);
    for (const name of slots) expect(r.stderr).to.include(`"${name}"`).and.include(`DROP DATABASE IF EXISTS "${name}";`);
    expect((await left()).databases).to.deep.equal(slots);

    // As the warning says, the next run against the target drops them itself.
    const again = await run({ 'test/a.spec.js': "describe('a', () => { it('passes', () => {}); });\n" }, ['-w', '1', '--isolation', 'database']);
    expect(again.r.code, again.r.output).to.equal(0);
    expect(await left()).to.deep.equal({ databases: [], sessions: [] });
  });
});
