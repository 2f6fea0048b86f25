// Checkout and cancellation: each is one transaction, so an order is either placed whole (stock taken, account
// charged, lines and ledger written) or not at all.
import { applyMovement } from './accounts.js';
import { NotFoundError, OrderStateError } from './errors.js';
import { reserveStock } from './inventory.js';
import { withTransaction } from './transactions.js';

function toOrder(row, lines) {
  return {
    id: Number(row.id),
    accountId: Number(row.account_id),
    status: row.status,
    totalCents: Number(row.total_cents),
    placedAt: row.placed_at,
    cancelledAt: row.cancelled_at,
    lines,
  };
}

/**
 * Places an order for items [{ sku, quantity }] at the current prices. Locks the account first and the products
 * in SKU order, so two checkouts never deadlock. Throws NotFoundError, OutOfStockError or InsufficientFundsError,
 * and then nothing has changed.
 */
export async function placeOrder(client, accountId, items) {
  return withTransaction(client, async () => {
    const account = await client.query('SELECT id FROM accounts WHERE id = $1 FOR UPDATE', [accountId]);
    if (account.rows.length === 0) throw new NotFoundError(`account ${accountId} does not exist`);
    const lines = await reserveStock(client, items);
    const total = lines.reduce((sum, l) => sum + l.quantity * l.unitPriceCents, 0);
    const { rows } = await client.query('INSERT INTO orders (account_id, total_cents) VALUES ($1, $2) RETURNING *', [accountId, total]);
    const order = rows[0];
    await client.query(
      `INSERT INTO order_lines (order_id, product_id, quantity, unit_price_cents)
       SELECT $1, * FROM unnest($2::bigint[], $3::int[], $4::bigint[])`,
      [order.id, lines.map((l) => l.productId), lines.map((l) => l.quantity), lines.map((l) => l.unitPriceCents)],
    );
    await applyMovement(client, accountId, -total, 'order', `order ${order.id}`);
    return toOrder(order, lines);
  });
}

export async function getOrder(client, orderId) {
  const { rows } = await client.query('SELECT * FROM orders WHERE id = $1', [orderId]);
  if (rows.length === 0) return null;
  const lines = await client.query(
    `SELECT l.product_id, p.sku, l.quantity, l.unit_price_cents
       FROM order_lines l JOIN products p ON p.id = l.product_id
      WHERE l.order_id = $1 ORDER BY p.sku`,
    [orderId],
  );
  return toOrder(
    rows[0],
    lines.rows.map((l) => ({ productId: Number(l.product_id), sku: l.sku, quantity: l.quantity, unitPriceCents: Number(l.unit_price_cents) })),
  );
}

/** An account's orders, newest first (without lines). */
export async function ordersFor(client, accountId) {
  const { rows } = await client.query('SELECT * FROM orders WHERE account_id = $1 ORDER BY id DESC', [accountId]);
  return rows.map((r) => toOrder(r, undefined));
}

/** Cancels a placed order: the stock goes back on the shelf and the money back to the account. */
export async function cancelOrder(client, orderId) {
  return withTransaction(client, async () => {
    const { rows } = await client.query('SELECT * FROM orders WHERE id = $1 FOR UPDATE', [orderId]);
    if (rows.length === 0) throw new NotFoundError(`order ${orderId} does not exist`);
    const order = rows[0];
    if (order.status !== 'placed') throw new OrderStateError(`order ${orderId} is ${order.status}, only a placed order can be cancelled`);
    await client.query(
      `UPDATE products p SET stock = p.stock + l.quantity, updated_at = now()
         FROM order_lines l WHERE l.order_id = $1 AND p.id = l.product_id`,
      [orderId],
    );
    await applyMovement(client, Number(order.account_id), Number(order.total_cents), 'refund', `order ${orderId}`);
    const updated = await client.query("UPDATE orders SET status = 'cancelled', cancelled_at = now() WHERE id = $1 RETURNING *", [orderId]);
    return toOrder(updated.rows[0], undefined);
  });
}
