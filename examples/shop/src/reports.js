// Read-only views for customer service.

/** Balance, order counts and money spent (placed orders only) for one account; null when it does not exist. */
export async function customerSummary(client, accountId) {
  const { rows } = await client.query(
    `SELECT a.balance_cents,
            count(o.id) FILTER (WHERE o.status = 'placed')                   AS placed_orders,
            count(o.id) FILTER (WHERE o.status = 'cancelled')                AS cancelled_orders,
            coalesce(sum(o.total_cents) FILTER (WHERE o.status = 'placed'), 0) AS spent_cents
       FROM accounts a LEFT JOIN orders o ON o.account_id = a.id
      WHERE a.id = $1
      GROUP BY a.id`,
    [accountId],
  );
  if (rows.length === 0) return null;
  const r = rows[0];
  return {
    balanceCents: Number(r.balance_cents),
    placedOrders: Number(r.placed_orders),
    cancelledOrders: Number(r.cancelled_orders),
    spentCents: Number(r.spent_cents),
  };
}

/** Units sold per SKU over placed orders, for the given SKUs, best sellers first. */
export async function unitsSold(client, skus) {
  const { rows } = await client.query(
    `SELECT p.sku, coalesce(sum(l.quantity) FILTER (WHERE o.status = 'placed'), 0) AS units
       FROM products p
       LEFT JOIN order_lines l ON l.product_id = p.id
       LEFT JOIN orders o ON o.id = l.order_id
      WHERE p.sku = ANY($1::text[])
      GROUP BY p.sku
      ORDER BY units DESC, p.sku`,
    [skus],
  );
  return rows.map((r) => ({ sku: r.sku, units: Number(r.units) }));
}
