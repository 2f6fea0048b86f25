// The catalogue and its stock.
import { BusyError, DuplicateSkuError, InvalidInputError, NotFoundError, OutOfStockError, SQLSTATE, isPgError, positiveInteger } from './errors.js';
import { withTransaction } from './transactions.js';

const COLUMNS = 'id, sku, name, price_cents, stock';

function toProduct(row) {
  return { id: Number(row.id), sku: row.sku, name: row.name, priceCents: Number(row.price_cents), stock: row.stock };
}

export async function addProduct(client, { sku, name, priceCents, stock = 0 }) {
  positiveInteger(priceCents, 'a price');
  try {
    const { rows } = await client.query(`INSERT INTO products (sku, name, price_cents, stock) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`, [
      sku,
      name,
      priceCents,
      stock,
    ]);
    return toProduct(rows[0]);
  } catch (err) {
    if (isPgError(err, SQLSTATE.uniqueViolation, 'products_sku_unique')) throw new DuplicateSkuError(`SKU ${sku} already exists`, { cause: err });
    if (isPgError(err, SQLSTATE.checkViolation, 'products_sku_format')) throw new InvalidInputError(`${JSON.stringify(sku)} is not a valid SKU`, { cause: err });
    throw err;
  }
}

export async function getProduct(client, sku) {
  const { rows } = await client.query(`SELECT ${COLUMNS} FROM products WHERE sku = $1`, [sku]);
  return rows.length === 0 ? null : toProduct(rows[0]);
}

export async function restock(client, sku, quantity) {
  positiveInteger(quantity, 'a restock quantity');
  const { rows } = await client.query('UPDATE products SET stock = stock + $2, updated_at = now() WHERE sku = $1 RETURNING stock', [sku, quantity]);
  if (rows.length === 0) throw new NotFoundError(`no product with SKU ${sku}`);
  return rows[0].stock;
}

/**
 * Removes damaged or lost units. There is deliberately no read-then-check here: the CHECK (stock >= 0) decides,
 * atomically, and its violation is turned into the same OutOfStockError a checkout gets.
 */
export async function writeOff(client, sku, quantity) {
  positiveInteger(quantity, 'a write-off quantity');
  try {
    const { rows } = await client.query('UPDATE products SET stock = stock - $2, updated_at = now() WHERE sku = $1 RETURNING stock', [sku, quantity]);
    if (rows.length === 0) throw new NotFoundError(`no product with SKU ${sku}`);
    return rows[0].stock;
  } catch (err) {
    if (!isPgError(err, SQLSTATE.checkViolation, 'products_stock_nonnegative')) throw err;
    const product = await getProduct(client, sku);
    throw new OutOfStockError(`cannot write off ${quantity} of ${sku}: only ${product?.stock ?? 0} in stock`, {
      sku,
      requested: quantity,
      available: product?.stock ?? 0,
      cause: err,
    });
  }
}

/** Adds up quantities per SKU and sorts by SKU, so every transaction locks products in the same order. */
export function normalizeItems(items) {
  if (!Array.isArray(items) || items.length === 0) throw new InvalidInputError('an order needs at least one item');
  const bySku = new Map();
  for (const { sku, quantity } of items) {
    positiveInteger(quantity, `the quantity of ${sku}`);
    bySku.set(sku, (bySku.get(sku) ?? 0) + quantity);
  }
  return [...bySku].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([sku, quantity]) => ({ sku, quantity }));
}

/**
 * Takes stock for the items inside the caller's transaction. SELECT ... FOR UPDATE makes concurrent checkouts of
 * the same product queue up, so the second one sees the stock the first one left, never a stale count.
 * Returns the reserved lines with the current unit price.
 */
export async function reserveStock(client, items) {
  if (client.getTransactionStatus?.() === 'I') {
    throw new Error('reserveStock must run inside a transaction, or its row locks are released at once');
  }
  const wanted = normalizeItems(items);
  const { rows } = await client.query(`SELECT ${COLUMNS} FROM products WHERE sku = ANY($1::text[]) ORDER BY sku FOR UPDATE`, [wanted.map((i) => i.sku)]);
  const found = new Map(rows.map((r) => [r.sku, toProduct(r)]));
  const lines = wanted.map(({ sku, quantity }) => {
    const product = found.get(sku);
    if (product === undefined) throw new NotFoundError(`no product with SKU ${sku}`);
    if (product.stock < quantity) {
      throw new OutOfStockError(`only ${product.stock} of ${sku} in stock, ${quantity} requested`, { sku, requested: quantity, available: product.stock });
    }
    return { productId: product.id, sku, quantity, unitPriceCents: product.priceCents };
  });
  await client.query(
    `UPDATE products p SET stock = p.stock - v.quantity, updated_at = now()
       FROM unnest($1::bigint[], $2::int[]) AS v(id, quantity) WHERE p.id = v.id`,
    [lines.map((l) => l.productId), lines.map((l) => l.quantity)],
  );
  return lines;
}

/**
 * Back-office repricing. It must not queue behind checkouts that hold the product row (and make every later
 * checkout queue behind it): with lock_timeout it gives up after lockTimeoutMs and says so with a BusyError.
 * SET LOCAL semantics (set_config(..., true)) keep the setting inside this transaction only.
 */
export async function setPrice(client, sku, priceCents, { lockTimeoutMs = 1000 } = {}) {
  positiveInteger(priceCents, 'a price');
  positiveInteger(lockTimeoutMs, 'lockTimeoutMs');
  try {
    return await withTransaction(client, async () => {
      await client.query("SELECT set_config('lock_timeout', $1, true)", [`${lockTimeoutMs}ms`]);
      const { rows } = await client.query(`UPDATE products SET price_cents = $2, updated_at = now() WHERE sku = $1 RETURNING ${COLUMNS}`, [sku, priceCents]);
      if (rows.length === 0) throw new NotFoundError(`no product with SKU ${sku}`);
      return toProduct(rows[0]);
    });
  } catch (err) {
    if (isPgError(err, SQLSTATE.lockNotAvailable)) {
      throw new BusyError(`product ${sku} is being changed by another transaction; try again`, { cause: err });
    }
    throw err;
  }
}
