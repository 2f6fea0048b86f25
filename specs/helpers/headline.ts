// The headline fixture of issue 2, one suite text for two runners: under bulkhead every test takes the worker's
// connection from db(); under plain mocha they share one pg.Client opened in a root before hook, the naive way. The
// pooled variant is the application's own: a module-level pg.Pool, a client checked out per test and released in
// afterEach without an error, the same under both runners.

export type HeadlineClient = 'bulkhead' | 'naive' | 'pooled';

/** Test titles in the order they run. */
export const HEADLINE = {
  pass1: 'pass 1',
  unique: 'violates a unique constraint inside BEGIN without ROLLBACK',
  pass2: 'pass 2 using db()',
  terminate: 'terminates its own backend',
  pass3: 'pass 3',
  timeout: 'hits statement_timeout',
  pass4: 'pass 4 on a session without the earlier SET',
  chai: 'fails a chai assertion',
  pass5: 'pass 5',
  caught: 'catches an expected database error and passes',
} as const;

export const HEADLINE_PASSES = [HEADLINE.pass1, HEADLINE.pass2, HEADLINE.pass3, HEADLINE.pass4, HEADLINE.pass5, HEADLINE.caught];
export const HEADLINE_FAILURES = [HEADLINE.unique, HEADLINE.terminate, HEADLINE.timeout, HEADLINE.chai];
/** The three deliberate database failures: the only tests after which the connection is rebuilt. */
export const HEADLINE_REBUILDS = [HEADLINE.unique, HEADLINE.terminate, HEADLINE.timeout].map((t) => `headline ${t}`);

const CLIENTS: Record<HeadlineClient, string> = {
  bulkhead: `import { db } from 'bulkhead';
const client = () => db();
`,
  naive: `import pg from 'pg';
let shared;
before(async () => {
  shared = new pg.Client({ connectionString: process.env.DATABASE_URL, application_name: 'naive-mocha' });
  await shared.connect();
});
after(async () => {
  await shared.end();
});
const client = async () => shared;
`,
  pooled: `import pg from 'pg';
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, application_name: 'headline-pool' });
let checkedOut = null;
afterEach(() => {
  checkedOut?.release();
  checkedOut = null;
});
after(() => pool.end());
const client = async () => (checkedOut ??= await pool.connect());
`,
};

export function headlineSuite(kind: HeadlineClient): string {
  const t = HEADLINE;
  return `${CLIENTS[kind]}import { expect } from 'chai';

describe('headline', function () {
  before(async () => {
    const c = await client();
    await c.query('CREATE TABLE headline_rows (id int PRIMARY KEY)');
    await c.query('INSERT INTO headline_rows VALUES (1)');
  });
  it('${t.pass1}', async () => {
    const { rows } = await (await client()).query('SELECT 1 AS one');
    expect(rows[0].one).to.equal(1);
  });
  it('${t.unique}', async () => {
    const c = await client();
    await c.query('BEGIN');
    await c.query('INSERT INTO headline_rows VALUES (1)');
  });
  it('${t.pass2}', async () => {
    const { rows } = await (await client()).query('SELECT count(*)::int AS n FROM headline_rows');
    expect(rows[0].n).to.equal(1);
  });
  it('${t.terminate}', async () => {
    await (await client()).query('SELECT pg_terminate_backend(pg_backend_pid())');
  });
  it('${t.pass3}', async () => {
    const { rows } = await (await client()).query('SELECT 1 AS one');
    expect(rows[0].one).to.equal(1);
  });
  it('${t.timeout}', async () => {
    const c = await client();
    await c.query("SET statement_timeout = '50ms'");
    await c.query('SELECT pg_sleep(5)');
  });
  it('${t.pass4}', async () => {
    const { rows } = await (await client()).query('SHOW statement_timeout');
    expect(rows[0].statement_timeout).to.equal('0');
  });
  it('${t.chai}', () => {
    expect(1 + 1).to.equal(3);
  });
  it('${t.pass5}', async () => {
    const { rows } = await (await client()).query('SELECT 1 AS one');
    expect(rows[0].one).to.equal(1);
  });
  it('${t.caught}', async () => {
    let code;
    try {
      await (await client()).query('INSERT INTO headline_rows VALUES (1)');
    } catch (err) {
      code = err.code;
    }
    expect(code).to.equal('23505');
  });
});
`;
}
