// --transaction: every test runs inside BEGIN ... ROLLBACK on the worker's connection. Nothing a test writes
// survives it, application code that runs its own BEGIN/COMMIT/ROLLBACK on that connection still behaves (its
// writes are visible inside the test; its ROLLBACK undoes only its own part), and a test that breaks the
// transaction is rolled back with its connection rebuilt, the next test starting clean.
import { expect } from 'chai';
import { closingLine, fixture, specOutcomes } from '../helpers/fixture.js';
import { rebuilds } from '../helpers/output.js';
import { createTarget, dropDatabase, runOn } from './support.js';
import type { Target } from './support.js';

const APP = `// The application's data layer: it manages its own transactions on the client it is given.
export async function withTransaction(client, fn) {
  await client.query('BEGIN');
  try {
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
}
export async function addItem(client, id) {
  await withTransaction(client, () => client.query('INSERT INTO items (id) VALUES ($1)', [id]));
}
export async function count(client) {
  return (await client.query('SELECT count(*)::int AS n FROM items')).rows[0].n;
}
`;

const SPEC = `import { expect } from 'chai';
import pg from 'pg';
import { db } from 'bulkhead';
import { addItem, count, withTransaction } from './app.js';

/** What another session sees: only committed rows. */
async function committed() {
  const other = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await other.connect();
  try {
    return await count(other);
  } finally {
    await other.end();
  }
}

describe('tx', function () {
  it('writes directly', async () => {
    const c = await db();
    await c.query('INSERT INTO items (id) VALUES (1)');
    expect(await count(c)).to.equal(1);
    expect(c.getTransactionStatus()).to.equal('T');
  });

  it('starts without the rows of the test before', async () => {
    expect(await count(await db())).to.equal(0);
  });

  it('runs application code that commits: visible inside the test, to no one else', async () => {
    const c = await db();
    await addItem(c, 2);
    await withTransaction(c, async () => {
      await addItem(c, 3);
      await addItem(c, 4);
    });
    expect(await count(c)).to.equal(3);
    expect(c.getTransactionStatus()).to.equal('T');
    expect(await committed()).to.equal(0);
  });

  it('runs application code that rolls back after a database error: only its own part is undone', async () => {
    const c = await db();
    await addItem(c, 5);
    const err = await withTransaction(c, async () => {
      await c.query('INSERT INTO items (id) VALUES (6)');
      await c.query('INSERT INTO items (id) VALUES (5)');
    }).catch((e) => e);
    expect(err).to.include({ code: '23505' });
    expect(await count(c)).to.equal(1);
    await c.query('BEGIN');
    await c.query('INSERT INTO items (id) VALUES (7)');
    await c.query('ROLLBACK');
    expect((await c.query('SELECT id FROM items ORDER BY id')).rows).to.deep.equal([{ id: 5 }]);
  });

  it('runs application code that commits after a caught error: PostgreSQL rolls such a transaction back', async () => {
    const c = await db();
    await addItem(c, 10);
    await c.query('BEGIN');
    await c.query('INSERT INTO items (id) VALUES (11)');
    expect(await c.query('INSERT INTO items (id) VALUES (10)').catch((e) => e)).to.include({ code: '23505' });
    await c.query('COMMIT');
    expect((await c.query('SELECT id FROM items ORDER BY id')).rows).to.deep.equal([{ id: 10 }]);
  });

  it('breaks the transaction', async () => {
    const c = await db();
    await c.query('INSERT INTO items (id) VALUES (8)');
    await c.query('INSERT INTO items (id) VALUES (8)');
  });

  it('starts clean after the broken one', async () => {
    const c = await db();
    expect(await count(c)).to.equal(0);
    await addItem(c, 9);
    expect(await count(c)).to.equal(1);
    expect(c.getTransactionStatus()).to.equal('T');
  });
});

// A defensive ROLLBACK (or COMMIT) when the application has no transaction open is a no-op in PostgreSQL; it must
// not end the test's own transaction, or the rows written after it would outlive the test.
describe('defensive', function () {
  beforeEach(async () => {
    const c = await db();
    await c.query('ROLLBACK');
    await c.query('INSERT INTO items (id) VALUES (12)');
    await c.query('COMMIT');
  });
  it('sees its fixture row', async () => {
    expect(await count(await db())).to.equal(1);
  });
  it('sees only its own fixture row', async () => {
    expect(await count(await db())).to.equal(1);
  });
});
`;

describe('databases: --transaction', function () {
  let target: Target;
  before(async function () {
    target = await createTarget('tx', 'CREATE TABLE items (id int PRIMARY KEY)');
  });
  after(async function () {
    await target.drop();
  });

  for (const isolation of ['shared', 'database']) {
    it(`leaves no rows, keeps the application's BEGIN/COMMIT/ROLLBACK working, and rebuilds after a broken test (${isolation})`, async function () {
      const fx = fixture({ 'test/app.js': APP, 'test/tx.spec.js': SPEC });
      try {
        const r = await runOn(target, fx, ['-w', '1', '--transaction', '--isolation', isolation, '--keep-databases', 'test/*.spec.js']);
        expect(r.code, r.output).to.equal(1);
        expect(closingLine(r.output), r.output).to.deep.equal({ passed: 8, failed: 1, skipped: 0 });
        expect(specOutcomes(r.output).failed, r.output).to.deep.equal(['breaks the transaction']);
        const rb = rebuilds(r.output);
        expect(rb?.total, r.output).to.equal(1);
        expect(rb?.list[0]).to.include({ slot: 1, kind: 'test', title: 'tx breaks the transaction' });
        expect(rb?.list[0]?.why).to.include('23505');
        // Nothing any test wrote survived, in the database the worker used.
        const used = isolation === 'database' ? `${target.name}_bulkhead_w1` : target.name;
        expect(await target.rows('SELECT id FROM items', [], used)).to.deep.equal([]);
      } finally {
        fx.remove();
        for (const name of await target.derived()) await dropDatabase(name);
      }
    });
  }

  it('control: without --transaction the same tests leave their rows and see each other\'s', async function () {
    const fx = fixture({ 'test/app.js': APP, 'test/tx.spec.js': SPEC });
    try {
      const r = await runOn(target, fx, ['-w', '1', 'test/*.spec.js']);
      expect(r.code, r.output).to.equal(1);
      expect(specOutcomes(r.output).failed, r.output).to.include.members(['starts without the rows of the test before', 'runs application code that commits: visible inside the test, to no one else']);
      expect((await target.rows<{ n: number }>('SELECT count(*)::int AS n FROM items'))[0]?.n).to.be.greaterThan(0);
    } finally {
      fx.remove();
      await target.rows('TRUNCATE items');
    }
  });
});
