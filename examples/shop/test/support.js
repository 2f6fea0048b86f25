// Test helpers (not a spec file: .mocharc.json only loads *.spec.js).
//
// Isolation: under bulkhead's `database` isolation every worker has its own database, yet each test still
// creates its own rows under a random tag and deletes them afterwards. The suite then also passes on one shared
// database and leaves nothing behind, and no test depends on data another test made.
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { db } from 'bulkhead';
import pg from 'pg';
import { addProduct, createAccount, deposit, withTransaction } from '../src/index.js';

/** An id no row has (identity columns start at 1). */
export const MISSING_ID = -1;

export function randomTag() {
  return randomBytes(5).toString('hex');
}

/** The error a promise rejects with; fails the test when it resolves instead. */
export async function rejectionOf(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  expect.fail('expected the call to fail, but it succeeded');
}

/** The server process id of a connection, to find it in pg_stat_activity and pg_blocking_pids(). */
export async function backendPid(client) {
  const { rows } = await client.query('SELECT pg_backend_pid() AS pid');
  return rows[0].pid;
}

/**
 * Waits until the backend `waiterPid` is blocked by a lock that `holder` (another connection, inside its
 * transaction) holds. It synchronises on the server's own lock table, not on time: it returns as soon as
 * PostgreSQL reports the wait. If `pending` (the call expected to wait) settles first, the premise of the test
 * is false and this fails at once; if the wait never comes, mocha's timeout ends the test.
 */
export async function waitUntilBlocked(holder, waiterPid, pending) {
  let settled = false;
  pending.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (;;) {
    const { rows } = await holder.query('SELECT pg_backend_pid() = ANY (pg_blocking_pids($1::int)) AS blocked', [waiterPid]);
    if (rows[0].blocked) return;
    if (settled) expect.fail(`backend ${waiterPid} finished without waiting for the lock held by the second connection`);
  }
}

/**
 * Call inside a describe(): every test in it gets a fresh tag for its rows, and after each test its extra
 * connections are closed (releasing their locks) and its rows deleted.
 */
export function scenario() {
  let tag = '';
  let extra = [];

  beforeEach(function () {
    tag = randomTag();
    extra = [];
  });

  afterEach(async function () {
    // Close the second connections first: their locks would otherwise make the cleanup below wait.
    const closing = extra;
    extra = [];
    await Promise.all(closing.map((c) => c.end().catch(() => undefined)));
    const client = await db();
    const emails = `%.${tag}@shop.test`;
    const skus = `%-${tag.toUpperCase()}`;
    await withTransaction(client, async () => {
      await client.query('DELETE FROM orders WHERE account_id IN (SELECT id FROM accounts WHERE lower(email) LIKE $1)', [emails]);
      await client.query('DELETE FROM order_lines WHERE product_id IN (SELECT id FROM products WHERE sku LIKE $1)', [skus]);
      await client.query('DELETE FROM products WHERE sku LIKE $1', [skus]);
      await client.query('DELETE FROM accounts WHERE lower(email) LIKE $1', [emails]);
    });
  });

  /** An email address unique to the running test. */
  const email = (local) => `${local}.${tag}@shop.test`;
  /** A SKU unique to the running test. */
  const sku = (name) => `${name.toUpperCase()}-${tag.toUpperCase()}`;

  return {
    email,
    sku,

    async account(name, balanceCents = 0) {
      const client = await db();
      const account = await createAccount(client, { email: email(name), name });
      if (balanceCents === 0) return account;
      return { ...account, balanceCents: await deposit(client, account.id, balanceCents, 'opening balance') };
    },

    async product(name, { priceCents, stock }) {
      return addProduct(await db(), { sku: sku(name), name, priceCents, stock });
    },

    /**
     * A second connection to the worker's own database (under isolation, bulkhead points DATABASE_URL and
     * PGDATABASE at it), playing a concurrent session: another checkout, a concurrent deposit. Closed after
     * the test. application_name makes it easy to spot in pg_stat_activity.
     */
    async connect() {
      const client = new pg.Client({ connectionString: process.env.DATABASE_URL, application_name: 'shop-second' });
      // An idle client's 'error' event needs a listener, or a dropped socket would crash the worker.
      client.on('error', () => undefined);
      extra.push(client);
      await client.connect();
      const [mine, theirs] = await Promise.all([client.query('SELECT current_database() AS d'), (await db()).query('SELECT current_database() AS d')]);
      if (mine.rows[0].d !== theirs.rows[0].d) {
        throw new Error(`the second connection reached database ${mine.rows[0].d}, but db() is on ${theirs.rows[0].d}: set DATABASE_URL or PGDATABASE`);
      }
      return client;
    },
  };
}
