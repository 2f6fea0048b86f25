// Cleanup: however a run ends (green, with or without a setup; red with a crashed worker, a leaked pool and a broken connection, a failing
// setup, Ctrl-C), pg_database holds none of its slot databases afterwards and no bulkhead session is left, unless
// --keep-databases asked to keep the slots. A template built from a setup stays by design (it is reused).
import { expect } from 'chai';
import pg from 'pg';
import { bulkheadSessions, closingLine, fixture } from '../helpers/fixture.js';
import type { CliOptions, CliResult } from '../helpers/fixture.js';
import { createTarget, dropDatabase, runOn } from './support.js';
import type { Target } from './support.js';

const GREEN = {
  'test/a.spec.js': "import { db } from 'bulkhead';\ndescribe('a', () => { it('a', async () => { await (await db()).query('INSERT INTO t VALUES (1)'); }); });\n",
  'test/b.spec.js': "import { db } from 'bulkhead';\ndescribe('b', () => { it('b', async () => { await (await db()).query('SELECT 1'); }); });\n",
};

const RED = {
  ...GREEN,
  'test/c-exit.spec.js': "import { db } from 'bulkhead';\ndescribe('c', () => { it('exits', async () => { await (await db()).query('SELECT 1'); process.exit(3); }); });\n",
  'test/d-leak.spec.js': `import pg from 'pg';
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
describe('d', () => { it('leaks a pool', async () => { await pool.query('SELECT 1'); }); });
`,
  'test/e-broken.spec.js': `import { db } from 'bulkhead';
describe('e', () => {
  it('leaves an aborted transaction', async () => {
    const c = await db();
    await c.query('BEGIN');
    await c.query('SELECT 1/0').catch(() => undefined);
  });
  it('fails on a constraint', async () => { await (await db()).query('INSERT INTO t VALUES (NULL)'); });
});
`,
};

const MARKER = 'MARKER: running';
// The test waits on an advisory lock the spec holds (on LOCK_URL), so Ctrl-C certainly comes mid-test.
const SLOW = {
  'test/a.spec.js': `import pg from 'pg';
import { db } from 'bulkhead';
describe('waits', function () {
  it('waits for the lock', async () => {
    await (await db()).query('SELECT 1');
    const c = new pg.Client({ connectionString: process.env.LOCK_URL });
    await c.connect();
    console.log('${MARKER}');
    await c.query('SELECT pg_advisory_lock(4242)');
    await c.end();
  });
});
`,
  'test/b.spec.js': GREEN['test/b.spec.js'],
};

describe('databases: cleanup after every run', function () {
  let target: Target;
  // Where the Ctrl-C case holds its lock: not on the target, which must be idle to be copied.
  let locks: Target;
  before(async function () {
    target = await createTarget('clean', 'CREATE TABLE t (v int NOT NULL)');
    locks = await createTarget('cleanlock');
  });
  after(async function () {
    await target.drop();
    await locks.drop();
  });

  /** What a run left: the databases made from the target, and bulkhead sessions on any of them. */
  async function leftovers(): Promise<{ databases: string[]; sessions: number }> {
    return { databases: await target.derived(), sessions: await bulkheadSessions(target.name) };
  }

  async function run(files: Record<string, string>, args: string[], onOutput?: CliOptions['onOutput']): Promise<CliResult> {
    const fx = fixture(files);
    try {
      return await runOn(target, fx, [...args, 'test/*.spec.js'], { LOCK_URL: locks.url }, onOutput === undefined ? {} : { onOutput });
    } finally {
      fx.remove();
    }
  }

  it('a red run with a crashed worker, a leaked pool and broken connections', async function () {
    const r = await run(RED, ['-w', '2']);
    expect(r.code, r.output).to.equal(1);
    expect(r.output).to.match(/^bulkhead: provisioning \(database\)/m);
    expect(closingLine(r.output), r.output).to.deep.equal({ passed: 4, failed: 2, skipped: 0 });
    expect(r.output).to.match(/^leaked connections: 1/m);
    expect(await leftovers()).to.deep.equal({ databases: [], sessions: 0 });
  });

  it('a run whose setup fails (exit 3 before any test) leaves nothing, not even a half-built template', async function () {
    const fx = fixture({ ...GREEN, 'migrations/001_bad.sql': 'CREATE TABLE ok (v int);\nCREATE TABLE bad (v no_such_type);\n' });
    try {
      const r = await runOn(target, fx, ['-w', '2', '--setup', 'migrations', 'test/*.spec.js']);
      expect(r.code, r.output).to.equal(3);
      expect(r.stderr).to.include('001_bad.sql');
      expect(closingLine(r.output)).to.equal(null);
    } finally {
      fx.remove();
    }
    expect(await leftovers()).to.deep.equal({ databases: [], sessions: 0 });
  });

  it('a run interrupted with Ctrl-C', async function () {
    const holder = new pg.Client({ connectionString: locks.url, application_name: 'cleanup-holder' });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock(4242)');
      let seen = '';
      let sent = false;
      let unlocking = false;
      let released: Promise<unknown> = Promise.resolve();
      const r = await run(SLOW, ['-w', '2'], (chunk, child) => {
        seen += chunk;
        if (!sent && seen.includes(MARKER)) {
          sent = true;
          child.kill('SIGINT');
        }
        if (sent && !unlocking && seen.includes('bulkhead: interrupted')) {
          unlocking = true;
          released = holder.query('SELECT pg_advisory_unlock(4242)');
        }
      });
      await released;
      expect(r.code, r.output).to.equal(130);
      expect(r.output).to.match(/^bulkhead: provisioning \(database\)/m);
      expect(await leftovers()).to.deep.equal({ databases: [], sessions: 0 });
    } finally {
      await holder.end();
    }
  });

  it('with a setup: the slots go, the template stays for the next run', async function () {
    const fx = fixture({ ...GREEN, 'migrations/001.sql': 'CREATE TABLE t (v int NOT NULL);\n' });
    try {
      const r = await runOn(target, fx, ['-w', '2', '--setup', 'migrations', 'test/*.spec.js']);
      expect(r.code, r.output).to.equal(0);
    } finally {
      fx.remove();
    }
    expect(await leftovers()).to.deep.equal({ databases: [`${target.name}_bulkhead_tpl`], sessions: 0 });
    await dropDatabase(`${target.name}_bulkhead_tpl`);
  });

  it('--keep-databases keeps the slots (marked as bulkhead\'s), and only them', async function () {
    const r = await run(GREEN, ['-w', '2', '--keep-databases']);
    expect(r.code, r.output).to.equal(0);
    const slots = [1, 2].map((n) => `${target.name}_bulkhead_w${n}`);
    try {
      expect(await leftovers()).to.deep.equal({ databases: slots, sessions: 0 });
      const marks = await target.rows<{ datname: string; c: string }>(
        "SELECT datname, shobj_description(oid, 'pg_database') AS c FROM pg_database WHERE datname = ANY($1) ORDER BY 1", [slots], 'postgres');
      expect(marks).to.deep.equal(slots.map((datname, i) => ({ datname, c: `bulkhead:slot:${i + 1}` })));
      // The kept slots hold what the run wrote (test a inserted one row in whichever slot ran it).
      let rows = 0;
      for (const name of slots) rows += (await target.rows('SELECT * FROM t', [], name)).length;
      expect(rows).to.equal(1);
    } finally {
      for (const name of slots) await dropDatabase(name);
    }
  });
});
