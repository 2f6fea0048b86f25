import { expect } from 'chai';
import { db } from 'bulkhead';
import { BusyError, OutOfStockError, getAccount, getProduct, ordersFor, placeOrder, reserveStock, setPrice } from '../src/index.js';
import { backendPid, rejectionOf, scenario, waitUntilBlocked } from './support.js';

// A second connection plays a checkout in progress: it has reserved stock (SELECT ... FOR UPDATE) and not yet
// committed, so it holds the product's row lock until it commits or rolls back.
async function checkoutHeldOpen(other, sku, quantity) {
  await other.query('BEGIN');
  await reserveStock(other, [{ sku, quantity }]);
}

describe('row locks', function () {
  const s = scenario();

  it('repricing gives up with BusyError (lock_timeout, 55P03) while a checkout holds the product', async function () {
    const client = await db();
    const lamp = await s.product('lamp', { priceCents: 4_000, stock: 3 });
    const other = await s.connect();
    await checkoutHeldOpen(other, lamp.sku, 1);
    const { rows: before } = await client.query('SHOW lock_timeout');
    const err = await rejectionOf(setPrice(client, lamp.sku, 4_500, { lockTimeoutMs: 50 }));
    expect(err).to.be.an.instanceOf(BusyError);
    expect(err.cause).to.include({ code: '55P03' });
    // The short lock_timeout ended with setPrice's transaction; it is not left on the worker's connection.
    const { rows: after } = await client.query('SHOW lock_timeout');
    expect(after).to.deep.equal(before);
    await other.query('ROLLBACK');
    expect(await getProduct(client, lamp.sku)).to.include({ priceCents: 4_000, stock: 3 });
  });

  it('repricing waits for a checkout that finishes within lock_timeout', async function () {
    const client = await db();
    const lamp = await s.product('lamp', { priceCents: 4_000, stock: 3 });
    const other = await s.connect();
    await checkoutHeldOpen(other, lamp.sku, 1);
    const pid = await backendPid(client);
    const { rows: before } = await client.query('SHOW lock_timeout');
    const pending = setPrice(client, lamp.sku, 4_500, { lockTimeoutMs: 60_000 });
    await waitUntilBlocked(other, pid, pending);
    await other.query('COMMIT');
    expect(await pending).to.include({ priceCents: 4_500, stock: 2 });
    // Committed, and still the setting did not outlive setPrice's transaction.
    const { rows: after } = await client.query('SHOW lock_timeout');
    expect(after).to.deep.equal(before);
  });

  it('makes the second of two checkouts for the last unit wait, then see that it is gone', async function () {
    const client = await db();
    const ann = await s.account('ann', 10_000);
    const clock = await s.product('clock', { priceCents: 3_000, stock: 1 });
    const other = await s.connect();
    await checkoutHeldOpen(other, clock.sku, 1);
    const pid = await backendPid(client);
    const pending = placeOrder(client, ann.id, [{ sku: clock.sku, quantity: 1 }]);
    await waitUntilBlocked(other, pid, pending);
    await other.query('COMMIT');
    const err = await rejectionOf(pending);
    // FOR UPDATE re-read the row after the wait: the stock the first checkout left, not a stale count.
    expect(err).to.be.an.instanceOf(OutOfStockError);
    expect(err).to.include({ sku: clock.sku, requested: 1, available: 0 });
    expect((await getProduct(client, clock.sku))?.stock).to.equal(0);
    expect((await getAccount(client, ann.id))?.balanceCents).to.equal(10_000);
    expect(await ordersFor(client, ann.id)).to.deep.equal([]);
  });

  it('does not make a checkout wait for a lock on another product', async function () {
    const client = await db();
    const ann = await s.account('ann', 10_000);
    const clock = await s.product('clock', { priceCents: 3_000, stock: 1 });
    const radio = await s.product('radio', { priceCents: 2_000, stock: 1 });
    const other = await s.connect();
    await checkoutHeldOpen(other, clock.sku, 1);
    // Were the row lock on the clock in the way, this would wait until mocha's timeout and fail.
    const order = await placeOrder(client, ann.id, [{ sku: radio.sku, quantity: 1 }]);
    expect(order.totalCents).to.equal(2_000);
    await other.query('ROLLBACK');
    expect((await getProduct(client, clock.sku))?.stock).to.equal(1);
  });
});
