// Provisioning against the shared server. Every database here has RUN in its name and is dropped in after(),
// whatever happened; server state (pg_database, pg_stat_activity) is the only thing the assertions read.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { BulkheadError, isBulkheadError } from '../src/errors.js';
import { checkCapacity, provision } from '../src/db/provision.js';
import type { ProvisionOptions, Provisioned } from '../src/db/types.js';
import { derivedName } from '../src/db/safety.js';

const SERVER = new URL(process.env['BULKHEAD_TEST_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test');
/** The server's URL for another database, keeping its user and password. */
function urlFor(database: string): string {
  const u = new URL(SERVER.href);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.href;
}
const CONN = { host: SERVER.hostname, port: Number(SERVER.port || 5432), user: decodeURIComponent(SERVER.username) || 'postgres', password: decodeURIComponent(SERVER.password) || undefined };
const RUN = randomBytes(4).toString('hex');
const id = pg.escapeIdentifier;

async function on<T>(database: string, fn: (c: pg.Client) => Promise<T>, extra: pg.ClientConfig = {}): Promise<T> {
  const c = new pg.Client({ ...CONN, database, application_name: 'bulkhead-spec', ...extra });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
const q = async <R extends pg.QueryResultRow>(db: string, text: string, params: unknown[] = []): Promise<R[]> => on(db, async (c) => (await c.query<R>(text, params)).rows);
const ours = async (prefix: string): Promise<string[]> =>
  (await q<{ datname: string }>('postgres', "SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY 1", [prefix])).map((r) => r.datname);
const comment = async (db: string): Promise<string | null> =>
  (await q<{ c: string | null }>('postgres', "SELECT shobj_description(oid, 'pg_database') AS c FROM pg_database WHERE datname = $1", [db]))[0]?.c ?? null;
const sessionsOn = async (db: string): Promise<number> => (await q<{ n: number }>('postgres', 'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [db]))[0]?.n ?? -1;
async function createDb(name: string, sql = 'CREATE TABLE t (v text); INSERT INTO t VALUES (\'seed\')'): Promise<string> {
  await q('postgres', `CREATE DATABASE ${id(name)}`);
  if (sql !== '') await on(name, (c) => c.query(sql));
  return name;
}
async function rejection(p: Promise<unknown>): Promise<BulkheadError> {
  const err = await p.then(() => null, (e: unknown) => e);
  if (!isBulkheadError(err)) throw new Error(`expected a BulkheadError, got ${String(err)}`);
  return err;
}

describe('provision', function () {
  const dir = mkdtempSync(path.join(tmpdir(), 'bulkhead-provision-'));
  const live: Provisioned[] = [];
  const clients: pg.Client[] = [];
  /** A session held open by the test (a worker's, a leak, a blocker): ended in afterEach even when the test fails. */
  const hold = async (database: string, application_name: string): Promise<pg.Client> => {
    const c = new pg.Client({ ...CONN, database, application_name });
    c.on('error', () => undefined);
    clients.push(c);
    await c.connect();
    return c;
  };
  const run = async (db: string, extra: Partial<ProvisionOptions> = {}): Promise<Provisioned> => {
    const target = { connectionString: urlFor(db) };
    const p = await provision({ target, isolation: 'database', setup: null, workers: 2, allowAnyDatabase: false, keepDatabases: false, root: dir, ...extra });
    live.push(p);
    return p;
  };
  before(function () {
    mkdirSync(path.join(dir, 'migrations'));
    writeFileSync(path.join(dir, 'migrations', '001_rows.sql'), 'CREATE TABLE slot_rows (slot int NOT NULL);\n');
    writeFileSync(path.join(dir, 'migrations', '002_items.sql'), 'CREATE TABLE items (id int);\n');
    writeFileSync(path.join(dir, 'migrations', '003_seed.ts'), "export async function setup(c: { query(s: string): Promise<unknown> }): Promise<void> {\n  await c.query('INSERT INTO items (id) VALUES (1)');\n}\n");
    writeFileSync(path.join(dir, 'broken.sql'), 'CREATE TABLE ok (v int);\nCREATE TABLE broken (v no_such_type);\n');
  });
  afterEach(async function () {
    for (const c of clients.splice(0)) await c.end().catch(() => undefined);
    for (const p of live.splice(0)) await p.teardown();
  });
  after(async function () {
    rmSync(dir, { recursive: true, force: true });
    for (const db of await q<{ datname: string }>('postgres', 'SELECT datname FROM pg_database WHERE strpos(datname, $1) > 0', [RUN])) {
      await q('postgres', `DROP DATABASE IF EXISTS ${id(db.datname)} WITH (FORCE)`);
    }
  });

  it('builds the template from the migrations once, reuses it while they are unchanged, rebuilds it after an edit', async function () {
    const base = await createDb(`bh_test_${RUN}_tpl`, '');
    const first = await run(base, { setup: 'migrations' });
    expect([first.templateReused, first.setupRan]).to.deep.equal([false, true]);
    expect(first.slots.map((s) => s.database)).to.deep.equal([`${base}_bulkhead_w1`, `${base}_bulkhead_w2`]);
    expect(first.timings.perSlot).to.have.length(2).and.satisfy((t: number[]) => t.every((ms) => ms > 0));
    await first.teardown();
    expect(await ours(`${base}_`)).to.deep.equal([`${base}_bulkhead_tpl`]);
    expect(await comment(`${base}_bulkhead_tpl`)).to.match(/^bulkhead:template:[0-9a-f]{16}$/);

    const second = await run(base, { setup: 'migrations' });
    expect([second.templateReused, second.setupRan]).to.deep.equal([true, false]);
    writeFileSync(path.join(dir, 'migrations', '002_items.sql'), 'CREATE TABLE items (id int, label text);\n');
    await second.teardown();
    const third = await run(base, { setup: 'migrations', workers: 1 });
    expect([third.templateReused, third.setupRan]).to.deep.equal([false, true]);
    expect(await q(third.slots[0]!.database, 'SELECT id, label FROM items')).to.deep.equal([{ id: 1, label: null }]);
  });

  it('reports a failing setup with its file and line, and leaves no half-built template', async function () {
    const base = await createDb(`bh_test_${RUN}_broken`, '');
    const err = await rejection(run(base, { setup: 'broken.sql' }));
    expect([err.code, err.exitCode]).to.deep.equal(['ERR_BULKHEAD_SETUP', 3]);
    expect(err.message).to.include('broken.sql:2').and.include('no_such_type');
    expect(await ours(`${base}_`)).to.deep.equal([]);
  });

  it('gives each slot its own database, reachable through its target and its DATABASE_URL/PGDATABASE', async function () {
    const p = await run(await createDb(`bh_test_${RUN}_iso`, ''), { setup: 'migrations', workers: 3 });
    for (const s of p.slots) {
      await on(s.database, (c) => c.query('INSERT INTO slot_rows VALUES ($1)', [s.slot]));
      const viaEnv = new pg.Client({ connectionString: s.env['DATABASE_URL'] });
      await viaEnv.connect();
      expect((await viaEnv.query('SELECT current_database() AS db')).rows[0].db).to.equal(s.env['PGDATABASE']).and.equal(s.database);
      await viaEnv.end();
      expect(await comment(s.database)).to.equal(`bulkhead:slot:${s.slot}`);
    }
    for (const s of p.slots) expect(await q(s.database, 'SELECT slot FROM slot_rows')).to.deep.equal([{ slot: s.slot }]);
    await p.teardown();
    expect(await ours(`bh_test_${RUN}_iso_bulkhead_w`)).to.deep.equal([]);
  });

  it('copies the target itself without a setup, and names the sessions that keep it busy', async function () {
    const base = await createDb(`bh_test_${RUN}_zero`);
    const holder = await hold(base, 'bh-spec-holder');
    const err = await rejection(run(base)).finally(() => holder.end());
    expect(err.code).to.equal('ERR_BULKHEAD_DATABASE_BUSY');
    expect(err.message).to.include(`"${base}"`).and.include('1 other session (application_name: "bh-spec-holder" x1)');
    expect(await ours(`${base}_`)).to.deep.equal([]);

    const p = await run(base);
    for (const s of p.slots) expect(await q(s.database, 'SELECT v FROM t')).to.deep.equal([{ v: 'seed' }]);
    await p.teardown();
    expect(await ours(`${base}_`)).to.deep.equal([]);
  });

  it('refuses a database without "test" in its name unless --allow-any-database', async function () {
    const app = await createDb(`app_bh_${RUN}`);
    const err = await rejection(run(app));
    expect([err.code, err.exitCode]).to.deep.equal(['ERR_BULKHEAD_NOT_TEST_DATABASE', 2]);
    expect(err.message).to.include(`"${app}"`).and.include('--allow-any-database');
    expect(await ours(`${app}_`)).to.deep.equal([]);
    await (await run(app, { allowAnyDatabase: true, workers: 1 })).teardown();
    expect(await ours(`${app}_`)).to.deep.equal([]);
  });

  it('never drops an unmarked database, and replaces a marked leftover of a crashed run', async function () {
    const base = await createDb(`bh_test_${RUN}_mark`);
    await createDb(`${base}_bulkhead_w2`, 'CREATE TABLE precious (v int)');
    await createDb(`${base}_bulkhead_w1`, 'CREATE TABLE stale (v int)');
    await q('postgres', `COMMENT ON DATABASE ${id(`${base}_bulkhead_w1`)} IS 'bulkhead:slot:1'`);
    const err = await rejection(run(base));
    expect([err.code, err.exitCode]).to.deep.equal(['ERR_BULKHEAD_NOT_OURS', 2]);
    expect(err.message).to.include(`"${base}_bulkhead_w2"`);
    expect(await q(`${base}_bulkhead_w2`, "SELECT to_regclass('precious') IS NOT NULL AS kept")).to.deep.equal([{ kept: true }]);
    expect(await ours(`${base}_`)).to.deep.equal([`${base}_bulkhead_w1`, `${base}_bulkhead_w2`]);

    const p = await run(base, { workers: 1 });
    expect(await q(`${base}_bulkhead_w1`, "SELECT to_regclass('stale') IS NULL AS fresh")).to.deep.equal([{ fresh: true }]);
    await p.teardown();
    expect(await ours(`${base}_`)).to.deep.equal([`${base}_bulkhead_w2`]);
  });

  it('quotes hostile names: a target named like an injection gets safe, distinct slot names', async function () {
    const canary = await createDb(`bh_canary_test_${RUN}`, '');
    const hostile = await createDb(`bh_test_${RUN}'; DROP DATABASE "${canary}"; --"x`);
    writeFileSync(path.join(dir, 'hostile.sql'), 'CREATE TABLE "it\'s ""quoted""" (v int);\n');
    const p = await provision({ target: { ...CONN, database: hostile }, isolation: 'database', setup: 'hostile.sql', workers: 2, allowAnyDatabase: false, keepDatabases: false, root: dir });
    live.push(p);
    for (const s of p.slots) {
      expect(s.database).to.match(new RegExp(`^bh_test_${RUN}_DROP_DATABASE_\\w+_[0-9a-f]{8}_bulkhead_w${s.slot}$`)).and.have.length.below(64);
      expect(await on(s.database, async (c) => (await c.query('SELECT count(*)::int AS n FROM "it\'s ""quoted"""')).rows)).to.deep.equal([{ n: 0 }]);
    }
    await p.teardown();
    expect(await ours(canary)).to.deep.equal([canary]);
    expect(await ours(`bh_test_${RUN}_DROP`)).to.have.length(1).and.satisfy((n: string[]) => n[0]?.endsWith('_bulkhead_tpl'));
    const long = 'x'.repeat(60);
    expect([1, 12].map((n) => derivedName(long, `_bulkhead_w${n}`)).map((n) => Buffer.byteLength(n))).to.deep.equal([63, 63]);
  });

  it('reclones a slot after a crash, ending what the dead worker left behind', async function () {
    const p = await run(await createDb(`bh_test_${RUN}_crash`), { workers: 1 });
    const db = p.slots[0]!.database;
    const dead = await hold(db, 'bulkhead:w1');
    await dead.query("INSERT INTO t VALUES ('written by the crashed worker')");
    await p.reclone(1);
    expect(await q(db, 'SELECT v FROM t')).to.deep.equal([{ v: 'seed' }]);
    expect(await comment(db)).to.equal('bulkhead:slot:1');
  });

  it('reports sessions a file leaked once, with their application_name, and ends them at the end', async function () {
    const p = await run(await createDb(`bh_test_${RUN}_leak`));
    const db = p.slots[0]!.database;
    const worker = await hold(db, 'bulkhead:w1');
    await hold(db, 'leaky-pool');
    const own = (worker as pg.Client & { processID: number }).processID;
    const none = { count: 0, applicationNames: [] };
    expect(await Promise.all([p.leaks(1, [own], []), p.leaks(2, [], [])])).to.deep.equal([{ count: 1, applicationNames: ['leaky-pool'] }, none]);
    expect(await p.leaks(1, [own], [])).to.deep.equal(none);
    await worker.end();
    expect(await p.closeLeaks()).to.equal(1);
    expect(await sessionsOn(db)).to.equal(0);
  });

  it('schema isolation: a marked schema per slot, the setup in each, search_path through PGOPTIONS', async function () {
    const base = await createDb(`bh_test_${RUN}_schema`, 'CREATE SCHEMA bulkhead_w2');
    const options = { isolation: 'schema' as const, setup: 'migrations/001_rows.sql' };
    const err = await rejection(run(base, options));
    expect(err.code).to.equal('ERR_BULKHEAD_NOT_OURS');
    expect(err.message).to.include('schema "bulkhead_w2"');
    await q(base, 'DROP SCHEMA bulkhead_w2');
    const p = await run(base, options);
    for (const s of p.slots) {
      expect([s.schema, s.env['PGOPTIONS']]).to.deep.equal([`bulkhead_w${s.slot}`, `-c search_path=bulkhead_w${s.slot},public`]);
      await on(base, (c) => c.query('INSERT INTO slot_rows VALUES ($1)', [s.slot]), { options: s.env['PGOPTIONS'] });
    }
    for (const s of p.slots) expect(await q(base, `SELECT slot FROM ${id(s.schema!)}.slot_rows`)).to.deep.equal([{ slot: s.slot }]);
    await p.teardown();
    expect(await q(base, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bulkhead_w%'")).to.deep.equal([]);
  });

  it('shared isolation hands every slot the target as it is, named in its environment too, and refuses a setup', async function () {
    const base = await createDb(`bh_shared_${RUN}`, '');
    const target = { connectionString: urlFor(base) };
    const p = await run(base, { isolation: 'shared' });
    // The application's own pools read DATABASE_URL and PG*: they must name the database db() uses (issue 9).
    const env = (n: number): Record<string, string> => ({
      DATABASE_URL: urlFor(base), PGAPPNAME: `bulkhead:w${n}:app`, PGDATABASE: base, PGHOST: SERVER.hostname, PGPORT: SERVER.port || '5432', PGUSER: CONN.user,
      ...(CONN.password !== undefined ? { PGPASSWORD: CONN.password } : {}),
    });
    expect(p.slots.map((s) => [s.database, s.target, s.env])).to.deep.equal([1, 2].map((n) => [base, target, env(n)]));
    expect((await rejection(run(base, { isolation: 'shared', setup: 'broken.sql' }))).code).to.equal('ERR_BULKHEAD_CONFIG');
  });

  it('checks capacity before the run and suggests a worker count that fits', async function () {
    await on('postgres', async (c) => {
      const [s] = (await c.query("SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int - coalesce(current_setting('reserved_connections', true), '0')::int AS limit")).rows;
      const err = await rejection(checkCapacity(c, s.limit));
      expect(err.code).to.equal('ERR_BULKHEAD_CAPACITY');
      expect(err.message).to.include(`${s.limit} workers need up to ${2 * s.limit + 2} connections`).and.include(`--workers ${Math.floor((s.limit - 2) / 2)} or fewer`);
      expect((await checkCapacity(c, 2)).needed).to.equal(6);
    });
  });

  it('leaves no session on any database it created', async function () {
    expect(await q('postgres', 'SELECT datname, application_name FROM pg_stat_activity WHERE strpos(datname, $1) > 0', [RUN])).to.deep.equal([]);
  });
});
