import { expect } from 'chai';
import { db } from 'bulkhead';
import { DuplicateSkuError, OutOfStockError, addProduct, getProduct, reserveStock, restock, withTransaction, writeOff } from '../src/index.js';
import { rejectionOf, scenario } from './support.js';

describe('inventory', function () {
  const s = scenario();

  it('adds a product and reads it back by SKU', async function () {
    const client = await db();
    const added = await addProduct(client, { sku: s.sku('kettle'), name: 'Kettle', priceCents: 2_999, stock: 4 });
    expect(await getProduct(client, s.sku('kettle'))).to.deep.equal(added);
    expect(added).to.include({ name: 'Kettle', priceCents: 2_999, stock: 4 });
  });

  it('refuses a second product with the same SKU (unique violation 23505)', async function () {
    const client = await db();
    await s.product('mug', { priceCents: 800, stock: 1 });
    const err = await rejectionOf(addProduct(client, { sku: s.sku('mug'), name: 'Another mug', priceCents: 900 }));
    expect(err).to.be.an.instanceOf(DuplicateSkuError);
    expect(err.cause).to.include({ code: '23505', constraint: 'products_sku_unique' });
    expect((await getProduct(client, s.sku('mug')))?.name).to.equal('mug');
  });

  it('restocks and writes off units', async function () {
    const client = await db();
    await s.product('chair', { priceCents: 5_000, stock: 2 });
    expect(await restock(client, s.sku('chair'), 5)).to.equal(7);
    expect(await writeOff(client, s.sku('chair'), 3)).to.equal(4);
  });

  it('turns the stock CHECK violation (23514) of a write-off beyond stock into OutOfStockError', async function () {
    const client = await db();
    await s.product('vase', { priceCents: 1_500, stock: 2 });
    const err = await rejectionOf(writeOff(client, s.sku('vase'), 3));
    expect(err).to.be.an.instanceOf(OutOfStockError);
    expect(err).to.include({ sku: s.sku('vase'), requested: 3, available: 2 });
    expect(err.cause).to.include({ code: '23514', constraint: 'products_stock_nonnegative' });
    expect((await getProduct(client, s.sku('vase')))?.stock).to.equal(2);
  });

  it('reserves stock inside a transaction, adding up repeated SKUs', async function () {
    const client = await db();
    const pen = await s.product('pen', { priceCents: 150, stock: 10 });
    await s.product('ink', { priceCents: 400, stock: 1 });
    const lines = await withTransaction(client, () =>
      reserveStock(client, [
        { sku: s.sku('pen'), quantity: 2 },
        { sku: s.sku('ink'), quantity: 1 },
        { sku: s.sku('pen'), quantity: 3 },
      ]),
    );
    expect(lines.map((l) => [l.sku, l.quantity])).to.deep.equal([
      [s.sku('ink'), 1],
      [s.sku('pen'), 5],
    ]);
    expect(lines.find((l) => l.sku === pen.sku)).to.include({ productId: pen.id, unitPriceCents: 150 });
    expect((await getProduct(client, s.sku('pen')))?.stock).to.equal(5);
    expect((await getProduct(client, s.sku('ink')))?.stock).to.equal(0);
  });

  it('refuses to reserve stock outside a transaction, where its row locks would not hold', async function () {
    const client = await db();
    await s.product('lamp', { priceCents: 3_000, stock: 1 });
    const err = await rejectionOf(reserveStock(client, [{ sku: s.sku('lamp'), quantity: 1 }]));
    expect(err.message).to.match(/inside a transaction/);
    expect((await getProduct(client, s.sku('lamp')))?.stock).to.equal(1);
  });
});
