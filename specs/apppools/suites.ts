// The fixture suites of the application-sessions specs: the ways Node applications hold connections (a module-level
// pg.Pool with a client per test released without an error, pool.query, knex, a module-level pg.Client), each with
// deliberate roots that leave a session dirty, each root followed by a test that a dirty session would fail.

/** Each root, the test after it, and what bulkhead ends its session for. */
export interface Root {
  file: string;
  suite: string;
  root: string;
  after: string;
  /** The root passes: it caught its error itself, or left a transaction open without failing. */
  rootPasses: boolean;
  applicationName: string;
  reasons: string[];
  state: string;
  /** The application holds the client across tests: the test after the root fails anyway. */
  held?: boolean;
}

const POOL = (name: string): string => `new pg.Pool({ connectionString: process.env.DATABASE_URL, application_name: '${name}' })`;

// One pool per suite, so every root's cascade is its own. No 'error' listener on any pool: the one a session ended
// by bulkhead raises must not crash the worker.
const poolSpec = `import pg from 'pg';
import { expect } from 'chai';

function pooled(title, body) {
  describe(title, function () {
    let pool;
    const withClient = async (fn) => {
      const c = await pool.connect();
      try {
        return await fn(c);
      } finally {
        c.release();
      }
    };
    before(async () => {
      pool = ${POOL('shop-pool')};
      await pool.query('CREATE TABLE IF NOT EXISTS pool_rows (id int PRIMARY KEY)');
      await pool.query('TRUNCATE pool_rows; INSERT INTO pool_rows VALUES (1)');
    });
    after(() => pool.end());
    body(withClient);
  });
}

pooled('unique', (withClient) => {
  it('root: violates a unique constraint inside BEGIN without ROLLBACK', () => withClient(async (c) => {
    await c.query('BEGIN');
    await c.query('INSERT INTO pool_rows VALUES (1)');
  }));
  it('after: counts the committed row', () => withClient(async (c) => {
    const { rows } = await c.query('SELECT count(*)::int AS n FROM pool_rows');
    expect(rows[0].n).to.equal(1);
  }));
});

pooled('caught', (withClient) => {
  it('root: catches an error inside a transaction, then releases', () => withClient(async (c) => {
    await c.query('BEGIN');
    const err = await c.query('INSERT INTO pool_rows VALUES (1)').catch((e) => e);
    expect(err.code).to.equal('23505');
  }));
  it('after: inserts and deletes a row', () => withClient(async (c) => {
    await c.query('INSERT INTO pool_rows VALUES (2)');
    await c.query('DELETE FROM pool_rows WHERE id = 2');
  }));
});

pooled('timeout', (withClient) => {
  it('root: sets statement_timeout and hits it', () => withClient(async (c) => {
    await c.query("SET statement_timeout = '20ms'");
    await c.query('SELECT pg_sleep(1)');
  }));
  it('after: runs a 100 ms statement', () => withClient(async (c) => {
    await c.query('SELECT pg_sleep(0.1)');
  }));
});

pooled('setting', (withClient) => {
  it('root: sets the time zone, then fails on a missing table', () => withClient(async (c) => {
    await c.query("SET TIME ZONE 'Pacific/Kiritimati'");
    await c.query('SELECT * FROM no_such_table');
  }));
  it('after: has the session default time zone', () => withClient(async (c) => {
    const { rows } = await c.query("SELECT current_setting('TimeZone') AS now, reset_val FROM pg_settings WHERE name = 'TimeZone'");
    expect(rows[0].now).to.equal(rows[0].reset_val);
  }));
});

pooled('temp', (withClient) => {
  it('root: creates a temporary table, then violates a unique constraint', () => withClient(async (c) => {
    await c.query('CREATE TEMP TABLE scratch (id int)');
    await c.query('INSERT INTO pool_rows VALUES (1)');
  }));
  it('after: creates the same temporary table', () => withClient(async (c) => {
    await c.query('CREATE TEMP TABLE scratch (id int)');
    await c.query('DROP TABLE scratch');
  }));
});
`;

// pool.query releases its client with the error when a statement fails, so pg-pool destroys it: through pool.query
// only a transaction left open by a passing test reaches the next test.
const querySpec = `import pg from 'pg';
import { expect } from 'chai';

const pool = ${POOL('shop-query')};
const count = async () => (await pool.query('SELECT count(*)::int AS n FROM query_rows')).rows[0].n;

before(async () => {
  await pool.query('CREATE TABLE IF NOT EXISTS query_rows (id int PRIMARY KEY)');
  await pool.query('TRUNCATE query_rows; INSERT INTO query_rows VALUES (1)');
});
after(() => pool.end());

describe('pool.query', function () {
  it('root: leaves a transaction open with a row in it, and passes', async () => {
    await pool.query('BEGIN');
    await pool.query('INSERT INTO query_rows VALUES (2)');
  });
  it('after: still counts one row', async () => {
    expect(await count()).to.equal(1);
  });
});
`;

const knexSpec = `import knexFactory from 'knex';
import { expect } from 'chai';

function knexed(title, body) {
  describe(title, function () {
    const knex = knexFactory({ client: 'pg', connection: { connectionString: process.env.DATABASE_URL, application_name: 'shop-knex' }, pool: { min: 0, max: 1 } });
    before(async () => {
      await knex.raw('CREATE TABLE IF NOT EXISTS knex_rows (id int PRIMARY KEY)');
      await knex.raw('TRUNCATE knex_rows; INSERT INTO knex_rows VALUES (1)');
    });
    after(() => knex.destroy());
    body(knex);
  });
}

knexed('knex unique', (knex) => {
  it('root: BEGIN through knex.raw, then a unique violation', async () => {
    await knex.raw('BEGIN');
    await knex('knex_rows').insert({ id: 1 });
  });
  it('after: counts one row', async () => {
    const [{ n }] = await knex('knex_rows').count('* as n');
    expect(Number(n)).to.equal(1);
  });
});

knexed('knex timeout', (knex) => {
  it('root: sets statement_timeout and hits it', async () => {
    await knex.raw("SET statement_timeout = '20ms'");
    await knex.raw('SELECT pg_sleep(1)');
  });
  it('after: runs a 100 ms statement', async () => {
    await knex.raw('SELECT pg_sleep(0.1)');
  });
});
`;

const clientSpec = `import pg from 'pg';
import { expect } from 'chai';

const client = new pg.Client({ connectionString: process.env.DATABASE_URL, application_name: 'shop-client' });

before(async () => {
  await client.connect();
  await client.query('CREATE TABLE IF NOT EXISTS client_rows (id int PRIMARY KEY)');
  await client.query('TRUNCATE client_rows; INSERT INTO client_rows VALUES (1)');
});
after(() => client.end());

describe('module client', function () {
  it('root: violates a unique constraint inside BEGIN without ROLLBACK', async () => {
    await client.query('BEGIN');
    await client.query('INSERT INTO client_rows VALUES (1)');
  });
  it('after: counts one row', async () => {
    const { rows } = await client.query('SELECT count(*)::int AS n FROM client_rows');
    expect(rows[0].n).to.equal(1);
  });
});
`;

export const FILES: Record<string, string> = {
  'test/pool.spec.js': poolSpec,
  'test/query.spec.js': querySpec,
  'test/knex.spec.js': knexSpec,
  'test/client.spec.js': clientSpec,
};

const FAILED = ['aborted-transaction', 'failed-test'];
export const ROOTS: Root[] = [
  { file: 'test/pool.spec.js', suite: 'unique', root: 'root: violates a unique constraint inside BEGIN without ROLLBACK', after: 'after: counts the committed row', rootPasses: false, applicationName: 'shop-pool', reasons: FAILED, state: 'idle in transaction (aborted)' },
  { file: 'test/pool.spec.js', suite: 'caught', root: 'root: catches an error inside a transaction, then releases', after: 'after: inserts and deletes a row', rootPasses: true, applicationName: 'shop-pool', reasons: ['aborted-transaction'], state: 'idle in transaction (aborted)' },
  { file: 'test/pool.spec.js', suite: 'timeout', root: 'root: sets statement_timeout and hits it', after: 'after: runs a 100 ms statement', rootPasses: false, applicationName: 'shop-pool', reasons: ['failed-test'], state: 'idle' },
  { file: 'test/pool.spec.js', suite: 'setting', root: 'root: sets the time zone, then fails on a missing table', after: 'after: has the session default time zone', rootPasses: false, applicationName: 'shop-pool', reasons: ['failed-test'], state: 'idle' },
  { file: 'test/pool.spec.js', suite: 'temp', root: 'root: creates a temporary table, then violates a unique constraint', after: 'after: creates the same temporary table', rootPasses: false, applicationName: 'shop-pool', reasons: ['failed-test'], state: 'idle' },
  { file: 'test/query.spec.js', suite: 'pool.query', root: 'root: leaves a transaction open with a row in it, and passes', after: 'after: still counts one row', rootPasses: true, applicationName: 'shop-query', reasons: ['in-transaction'], state: 'idle in transaction' },
  { file: 'test/knex.spec.js', suite: 'knex unique', root: 'root: BEGIN through knex.raw, then a unique violation', after: 'after: counts one row', rootPasses: false, applicationName: 'shop-knex', reasons: FAILED, state: 'idle in transaction (aborted)' },
  { file: 'test/knex.spec.js', suite: 'knex timeout', root: 'root: sets statement_timeout and hits it', after: 'after: runs a 100 ms statement', rootPasses: false, applicationName: 'shop-knex', reasons: ['failed-test'], state: 'idle' },
  { file: 'test/client.spec.js', suite: 'module client', root: 'root: violates a unique constraint inside BEGIN without ROLLBACK', after: 'after: counts one row', rootPasses: false, applicationName: 'shop-client', reasons: FAILED, state: 'idle in transaction (aborted)', held: true },
];
