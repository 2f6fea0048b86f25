// Per-worker isolation. Fixture files first meet at a barrier, so every worker is certainly busy at once with a file
// of its own; then they write. Under `database` isolation each slot's database holds only its own slot's rows, and a
// suite that builds its own pg.Pool from the environment is isolated without knowing it; under `shared` the same
// suite collides (the negative control); under `schema` each slot writes into its own schema via search_path.
import { expect } from 'chai';
import { closingLine, fixture, SERVER_URL } from '../helpers/fixture.js';
import { BARRIER_JS, BARRIER_SQL, barrierEnv, createTarget, dropDatabase, runOn } from './support.js';
import type { Target } from './support.js';

const TABLES = `${BARRIER_SQL};
CREATE TABLE slot_rows (slot int NOT NULL, file text NOT NULL, via text NOT NULL);
CREATE TABLE items (file text NOT NULL, n int NOT NULL);`;

/**
 * W files; each waits for all W, then writes its slot through db() and through a client of its own. With `create`,
 * each first creates the table, unqualified (under schema isolation: in the first schema of its search_path).
 */
function slotFiles(workers: number, create = false): Record<string, string> {
  const files: Record<string, string> = { 'test/barrier.js': BARRIER_JS };
  for (let i = 1; i <= workers; i++) {
    files[`test/f${i}.spec.js`] = `import pg from 'pg';
import { db } from 'bulkhead';
import { barrier } from './barrier.js';
describe('file ${i}', function () {
  this.timeout(20000);
  it('writes its slot', async () => {
    ${create ? "await (await db()).query('CREATE TABLE slot_rows (slot int NOT NULL, file text NOT NULL, via text NOT NULL)');" : ''}
    await barrier(${workers});
    const slot = Number(process.env.BULKHEAD_WORKER);
    await (await db()).query("INSERT INTO slot_rows VALUES ($1, 'f${i}', 'db()')", [slot]);
    const own = new pg.Client(process.env.DATABASE_URL ? { connectionString: process.env.DATABASE_URL } : {});
    await own.connect();
    try {
      await own.query("INSERT INTO slot_rows VALUES ($1, 'f${i}', 'own')", [slot]);
      const { rows } = await own.query('SELECT current_schema() AS s, current_database() AS d');
      console.log('WHERE f${i} w' + slot + ' ' + rows[0].d + ' ' + rows[0].s);
    } finally {
      await own.end();
    }
  });
});
`;
  }
  return files;
}

/**
 * W files sharing one table through a pg.Pool each builds from the environment, as an application would: each
 * empties the table and fills it with its own rows, waits until every file has done so, and expects to see
 * exactly its own rows. On one shared database they see each other's rows (or find theirs truncated away).
 */
function poolFiles(workers: number): Record<string, string> {
  const files: Record<string, string> = { 'test/barrier.js': BARRIER_JS };
  for (let i = 1; i <= workers; i++) {
    files[`test/p${i}.spec.js`] = `import { expect } from 'chai';
import pg from 'pg';
import { barrier } from './barrier.js';
const pool = new pg.Pool(process.env.DATABASE_URL ? { connectionString: process.env.DATABASE_URL } : {});
describe('pool ${i}', function () {
  this.timeout(20000);
  after(() => pool.end());
  it('owns the items table', async () => {
    await pool.query('TRUNCATE items');
    await pool.query("INSERT INTO items SELECT 'p${i}', g FROM generate_series(1, 25) g");
    await barrier(${workers});
    const { rows } = await pool.query('SELECT file, count(*)::int AS n FROM items GROUP BY file ORDER BY file');
    expect(rows).to.deep.equal([{ file: 'p${i}', n: 25 }]);
  });
});
`;
  }
  return files;
}

describe('databases: per-worker isolation', function () {
  let target: Target;
  before(async function () {
    target = await createTarget('iso', TABLES);
  });
  after(async function () {
    await target.drop();
  });

  it('database: no slot database holds another slot\'s rows (db() and the specs\' own clients)', async function () {
    const fx = fixture(slotFiles(3));
    try {
      const r = await runOn(target, fx, ['-w', '3', '--keep-databases', 'test/*.spec.js'], barrierEnv(target));
      expect(r.code, r.output).to.equal(0);
      expect(closingLine(r.output), r.output).to.deep.equal({ passed: 3, failed: 0, skipped: 0 });
      const slots = [1, 2, 3].map((n) => `${target.name}_bulkhead_w${n}`);
      expect(await target.derived()).to.include.members(slots);
      const files: string[] = [];
      for (const [i, name] of slots.entries()) {
        const rows = await target.rows<{ slot: number; file: string; via: string }>('SELECT slot, file, via FROM slot_rows ORDER BY via', [], name);
        // One file per slot (the barrier saw to that), written by both of its connections, and nothing else.
        expect(rows.map((r) => [r.slot, r.via]), name).to.deep.equal([[i + 1, 'db()'], [i + 1, 'own']]);
        expect(rows[0]?.file).to.equal(rows[1]?.file);
        files.push(rows[0]?.file ?? '');
      }
      expect(files.sort()).to.deep.equal(['f1', 'f2', 'f3']);
      expect(await target.rows('SELECT * FROM slot_rows')).to.deep.equal([]);
    } finally {
      fx.remove();
      for (const name of await target.derived()) await dropDatabase(name);
    }
  });

  it('database: a suite with its own pg.Pool from DATABASE_URL runs green with -w 4', async function () {
    const fx = fixture(poolFiles(4));
    try {
      const r = await runOn(target, fx, ['-w', '4', 'test/*.spec.js'], barrierEnv(target));
      expect(r.code, r.output).to.equal(0);
      expect(closingLine(r.output), r.output).to.deep.equal({ passed: 4, failed: 0, skipped: 0 });
    } finally {
      fx.remove();
    }
  });

  it('database: the same suite, its pool built from PG* variables alone (PGDATABASE, no DATABASE_URL), runs green with -w 2', async function () {
    const server = new URL(SERVER_URL);
    const fx = fixture(poolFiles(2));
    try {
      const r = await runOn(target, fx, ['-w', '2', 'test/*.spec.js'], {
        ...barrierEnv(target),
        DATABASE_URL: undefined,
        PGHOST: server.hostname,
        PGPORT: server.port || '5432',
        PGUSER: decodeURIComponent(server.username) || 'postgres',
        PGDATABASE: target.name,
        // Empty (ignored) on a trust-auth server; the embedded fallback checks passwords.
        ...(server.password !== '' ? { PGPASSWORD: decodeURIComponent(server.password) } : {}),
      });
      expect(r.code, r.output).to.equal(0);
      expect(closingLine(r.output), r.output).to.deep.equal({ passed: 2, failed: 0, skipped: 0 });
    } finally {
      fx.remove();
    }
  });

  it('shared (negative control): the same suite collides on the one database', async function () {
    const fx = fixture(poolFiles(2));
    try {
      const r = await runOn(target, fx, ['-w', '2', '--isolation', 'shared', 'test/*.spec.js'], barrierEnv(target));
      expect(r.code, r.output).to.equal(1);
      // Both filled the table before either looked (the barrier), so at most one of them finds only its own rows.
      const line = closingLine(r.output);
      expect(line?.failed, r.output).to.be.greaterThanOrEqual(1);
      expect((line?.passed ?? 0) + (line?.failed ?? 0)).to.equal(2);
      expect(r.output).to.match(/AssertionError: expected \[ { file: 'p[12]', n: 25 }/);
    } finally {
      fx.remove();
      await target.rows('TRUNCATE items');
    }
  });

  it('schema: each slot works in its own schema through search_path, db() and its own clients alike', async function () {
    // public.slot_rows exists too: each file creates its own table, unqualified, and writes to it unqualified.
    const fx = fixture(slotFiles(2, true));
    try {
      const r = await runOn(target, fx, ['-w', '2', '--isolation', 'schema', '--keep-databases', 'test/*.spec.js'], barrierEnv(target));
      expect(r.code, r.output).to.equal(0);
      expect(closingLine(r.output), r.output).to.deep.equal({ passed: 2, failed: 0, skipped: 0 });
      const where = [...r.output.matchAll(/^WHERE f\d w(\d) (\S+) (\S+)$/gm)].map((m) => [m[1], m[2], m[3]]).sort();
      expect(where).to.deep.equal([['1', target.name, 'bulkhead_w1'], ['2', target.name, 'bulkhead_w2']]);
      for (const slot of [1, 2]) {
        const rows = await target.rows<{ slot: number; via: string }>(`SELECT slot, via FROM bulkhead_w${slot}.slot_rows ORDER BY via`);
        expect(rows.map((r) => [r.slot, r.via]), `schema bulkhead_w${slot}`).to.deep.equal([[slot, 'db()'], [slot, 'own']]);
      }
      expect(await target.rows('SELECT * FROM public.slot_rows')).to.deep.equal([]);
    } finally {
      fx.remove();
      for (const slot of [1, 2]) await target.rows(`DROP SCHEMA IF EXISTS bulkhead_w${slot} CASCADE`);
    }
  });
});
