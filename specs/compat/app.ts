// The compatibility fixture: a small application as users have it. Its own pg.Pool is built from DATABASE_URL when
// its module loads (and a second one from the PG* variables alone), migrations live in a folder, a root hook plugin
// migrates in beforeAll and ends the pools in afterAll, and the spec files mix JavaScript and TypeScript in an
// order that makes a worker meet .js first. Nothing in it knows bulkhead except db(), which each test compares with.

/** The spec files in the order discovery sorts them; .js first, so -w 1 and -w 2 load TypeScript after JavaScript. */
export const SPECS = ['test/s1.spec.js', 'test/s2.spec.js', 'test/s3.spec.ts', 'test/s4.spec.ts', 'test/s5.spec.js', 'test/s6.spec.ts'];

/** The one test of a spec file, as mocha's JSON reporter titles it. */
export function testTitle(spec: string): string {
  const name = /s\d/.exec(spec)?.[0] ?? spec;
  return `${name} the app's pools and db() share one database`;
}

const POOL_JS = `import pg from 'pg';
// As applications do: a pool from DATABASE_URL, built when the module loads; and one from PG* alone.
export const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
export const pgPool = new pg.Pool({ max: 1 });
export async function closePools() {
  await Promise.all([pool.end(), pgPool.end()]);
}
`;

const MIGRATE_JS = `import { readFileSync, readdirSync } from 'node:fs';
// Applies migrations/*.sql once, in name order, under a lock (two workers on one database must not race).
export async function migrate(pool) {
  const dir = new URL('../migrations/', import.meta.url);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(90901)');
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY)');
    const done = new Set((await client.query('SELECT name FROM schema_migrations')).rows.map((r) => r.name));
    for (const name of readdirSync(dir).sort()) {
      if (done.has(name)) continue;
      await client.query(readFileSync(new URL(name, dir), 'utf8'));
      await client.query('INSERT INTO schema_migrations VALUES ($1)', [name]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}
`;

const CHECK_JS = `import { expect } from 'chai';
import { db } from 'bulkhead';
import { pool, pgPool } from '../../src/pool.js';

const where = async (c) => (await c.query('SELECT current_database() AS d, current_schema() AS s')).rows[0];

export async function check(file) {
  const mine = await where(await db());
  expect(await where(pool), 'the DATABASE_URL pool').to.deep.equal(mine);
  expect(await where(pgPool), 'the PG* pool').to.deep.equal(mine);
  expect(process.env.PGDATABASE, 'PGDATABASE').to.equal(mine.d);
  const worker = process.env.BULKHEAD_WORKER ?? 'serial';
  await pool.query('INSERT INTO items (file, worker) VALUES ($1, $2)', [file, worker]);
  const seeds = await pool.query("SELECT count(*)::int AS n FROM items WHERE file = 'seed'");
  expect(seeds.rows[0].n, 'seed rows from the migrations').to.equal(1);
  if (process.env.COMPAT_ISOLATED === '1') {
    const others = await pool.query("SELECT count(*)::int AS n FROM items WHERE file <> 'seed' AND worker <> $1", [worker]);
    expect(others.rows[0].n, 'rows written by other workers').to.equal(0);
  }
}
`;

function specFile(spec: string): string {
  const name = /s\d/.exec(spec)?.[0] ?? spec;
  const title = testTitle(spec);
  if (spec.endsWith('.ts')) {
    return `import { check } from './support/check.js';

interface Written {
  file: string;
}

describe('${name}', () => {
  it(${JSON.stringify(title.slice(name.length + 1))}, async () => {
    const row: Written = { file: '${name}' };
    await check(row.file);
  });
});
`;
  }
  return `import { check } from './support/check.js';

describe('${name}', () => {
  it(${JSON.stringify(title.slice(name.length + 1))}, async () => {
    await check('${name}');
  });
});
`;
}

/** The application's files; `.mocharc.yml` uses the root hook plugin, `.mocharc.global.yml` mochaGlobalSetup. */
export function appFiles(): Record<string, string> {
  const files: Record<string, string> = {
    'src/pool.js': POOL_JS,
    'src/migrate.js': MIGRATE_JS,
    'migrations/001_items.sql': 'CREATE TABLE items (id serial PRIMARY KEY, file text NOT NULL, worker text NOT NULL);\n',
    'migrations/002_seed.sql': "INSERT INTO items (file, worker) VALUES ('seed', 'migration');\n",
    'test/support/check.js': CHECK_JS,
    'test/hooks.js': `import { closePools, pool } from '../src/pool.js';
import { migrate } from '../src/migrate.js';

export const mochaHooks = {
  async beforeAll() {
    await migrate(pool);
  },
  async afterAll() {
    await closePools();
  },
};
`,
    'test/global.js': `import pg from 'pg';
import { closePools } from '../src/pool.js';
import { migrate } from '../src/migrate.js';

export async function mochaGlobalSetup() {
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
  try {
    await migrate(pool);
  } finally {
    await pool.end();
  }
}

export async function mochaGlobalTeardown() {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  const { rows } = await client.query('SELECT current_database() AS d');
  await client.end();
  process.stderr.write('global teardown saw ' + rows[0].d + '\\n');
}

export const mochaHooks = {
  async afterAll() {
    await closePools();
  },
};
`,
    '.mocharc.yml': 'require: test/hooks.js\nspec: test/*.spec.*\ntimeout: 20000\n',
    '.mocharc.global.yml': 'require: test/global.js\nspec: test/*.spec.*\ntimeout: 20000\n',
    // mocha adds a config's spec to the files named on the command line, so a one-file run names a config without.
    '.mocharc.one.yml': 'require: test/hooks.js\ntimeout: 20000\n',
  };
  for (const spec of SPECS) files[spec] = specFile(spec);
  return files;
}
