import { expect } from 'chai';
import { db } from 'bulkhead';
import { cancelOrder, customerSummary, placeOrder, unitsSold } from '../src/index.js';
import { MISSING_ID, scenario } from './support.js';

describe('reports', function () {
  const s = scenario();

  it('summarises a customer: balance, placed and cancelled orders, money spent on placed ones', async function () {
    const client = await db();
    const ann = await s.account('ann', 10_000);
    const pen = await s.product('pen', { priceCents: 1_000, stock: 10 });
    await placeOrder(client, ann.id, [{ sku: pen.sku, quantity: 2 }]);
    const second = await placeOrder(client, ann.id, [{ sku: pen.sku, quantity: 1 }]);
    await cancelOrder(client, second.id);
    expect(await customerSummary(client, ann.id)).to.deep.equal({ balanceCents: 8_000, placedOrders: 1, cancelledOrders: 1, spentCents: 2_000 });
    expect(await customerSummary(client, MISSING_ID)).to.equal(null);
  });

  it('ranks products by units sold in placed orders only', async function () {
    const client = await db();
    const ann = await s.account('ann', 100_000);
    const cup = await s.product('cup', { priceCents: 500, stock: 20 });
    const jug = await s.product('jug', { priceCents: 900, stock: 20 });
    const tray = await s.product('tray', { priceCents: 1_100, stock: 20 });
    await placeOrder(client, ann.id, [{ sku: cup.sku, quantity: 2 }, { sku: jug.sku, quantity: 3 }]);
    const cancelled = await placeOrder(client, ann.id, [{ sku: cup.sku, quantity: 5 }]);
    await cancelOrder(client, cancelled.id);
    expect(await unitsSold(client, [cup.sku, jug.sku, tray.sku])).to.deep.equal([
      { sku: jug.sku, units: 3 },
      { sku: cup.sku, units: 2 },
      { sku: tray.sku, units: 0 },
    ]);
  });
});
