import { expect } from 'chai';
import { db } from 'bulkhead';
import {
  InsufficientFundsError,
  NotFoundError,
  OrderStateError,
  OutOfStockError,
  cancelOrder,
  getAccount,
  getOrder,
  getProduct,
  ordersFor,
  placeOrder,
  setPrice,
  statement,
} from '../src/index.js';
import { rejectionOf, scenario } from './support.js';

describe('orders', function () {
  const s = scenario();

  it('places an order: takes the stock, charges the account and records the lines at the current price', async function () {
    const client = await db();
    const ann = await s.account('ann', 10_000);
    const tea = await s.product('tea', { priceCents: 450, stock: 10 });
    const pot = await s.product('teapot', { priceCents: 2_500, stock: 1 });
    const order = await placeOrder(client, ann.id, [
      { sku: tea.sku, quantity: 3 },
      { sku: pot.sku, quantity: 1 },
    ]);
    expect(order).to.include({ accountId: ann.id, status: 'placed', totalCents: 3 * 450 + 2_500 });
    expect((await getProduct(client, tea.sku))?.stock).to.equal(7);
    expect((await getProduct(client, pot.sku))?.stock).to.equal(0);
    expect((await getAccount(client, ann.id))?.balanceCents).to.equal(10_000 - 3_850);
    expect((await getOrder(client, order.id))?.lines).to.deep.equal([
      { productId: tea.id, sku: tea.sku, quantity: 3, unitPriceCents: 450 },
      { productId: pot.id, sku: pot.sku, quantity: 1, unitPriceCents: 2_500 },
    ]);
    expect((await statement(client, ann.id)).at(-1)).to.deep.equal({ kind: 'order', amountCents: -3_850, reference: `order ${order.id}`, balanceAfterCents: 6_150 });
  });

  it('changes nothing when the account cannot pay', async function () {
    const client = await db();
    const bob = await s.account('bob', 1_000);
    const rug = await s.product('rug', { priceCents: 1_001, stock: 1 });
    const err = await rejectionOf(placeOrder(client, bob.id, [{ sku: rug.sku, quantity: 1 }]));
    expect(err).to.be.an.instanceOf(InsufficientFundsError);
    expect((await getProduct(client, rug.sku))?.stock).to.equal(1);
    expect((await getAccount(client, bob.id))?.balanceCents).to.equal(1_000);
    expect(await ordersFor(client, bob.id)).to.deep.equal([]);
  });

  it('reserves nothing when one line is out of stock', async function () {
    const client = await db();
    const cleo = await s.account('cleo', 50_000);
    const desk = await s.product('desk', { priceCents: 20_000, stock: 5 });
    const shelf = await s.product('shelf', { priceCents: 6_000, stock: 1 });
    const err = await rejectionOf(placeOrder(client, cleo.id, [{ sku: desk.sku, quantity: 1 }, { sku: shelf.sku, quantity: 2 }]));
    expect(err).to.be.an.instanceOf(OutOfStockError);
    expect(err).to.include({ sku: shelf.sku, requested: 2, available: 1 });
    expect((await getProduct(client, desk.sku))?.stock).to.equal(5);
    expect((await getAccount(client, cleo.id))?.balanceCents).to.equal(50_000);
  });

  it('names the SKU that does not exist', async function () {
    const client = await db();
    const dan = await s.account('dan', 1_000);
    const err = await rejectionOf(placeOrder(client, dan.id, [{ sku: s.sku('ghost'), quantity: 1 }]));
    expect(err).to.be.an.instanceOf(NotFoundError);
    expect(err.message).to.include(s.sku('ghost'));
  });

  it('cancels an order once: the stock goes back and the money is refunded', async function () {
    const client = await db();
    const eve = await s.account('eve', 5_000);
    const hat = await s.product('hat', { priceCents: 1_200, stock: 3 });
    const order = await placeOrder(client, eve.id, [{ sku: hat.sku, quantity: 2 }]);
    const cancelled = await cancelOrder(client, order.id);
    expect(cancelled.status).to.equal('cancelled');
    expect(cancelled.cancelledAt).to.be.an.instanceOf(Date);
    expect((await getProduct(client, hat.sku))?.stock).to.equal(3);
    expect((await getAccount(client, eve.id))?.balanceCents).to.equal(5_000);

    const again = await rejectionOf(cancelOrder(client, order.id));
    expect(again).to.be.an.instanceOf(OrderStateError);
    expect((await getAccount(client, eve.id))?.balanceCents).to.equal(5_000);
    expect((await statement(client, eve.id)).map((e) => e.kind)).to.deep.equal(['deposit', 'order', 'refund']);
  });

  it('keeps the price paid on the order lines when the product is repriced later', async function () {
    const client = await db();
    const fay = await s.account('fay', 5_000);
    const bag = await s.product('bag', { priceCents: 1_000, stock: 2 });
    const first = await placeOrder(client, fay.id, [{ sku: bag.sku, quantity: 1 }]);
    await setPrice(client, bag.sku, 1_500);
    const second = await placeOrder(client, fay.id, [{ sku: bag.sku, quantity: 1 }]);
    expect((await getOrder(client, first.id))?.lines?.[0]?.unitPriceCents).to.equal(1_000);
    expect((await getOrder(client, second.id))?.lines?.[0]?.unitPriceCents).to.equal(1_500);
    expect((await ordersFor(client, fay.id)).map((o) => o.id)).to.deep.equal([second.id, first.id]);
  });
});
