// Money between two accounts. A transfer reads both balances and then writes both: under READ COMMITTED a
// concurrent change between the read and the write would be lost, so it runs SERIALIZABLE and is retried when
// PostgreSQL reports a serialization failure (40001).
import { InsufficientFundsError, InvalidInputError, NotFoundError, positiveInteger } from './errors.js';
import { withSerializableRetry } from './transactions.js';

/**
 * Moves amountCents from one account to another. Returns the new balances and the number of attempts it took.
 * options go to withSerializableRetry (maxAttempts, onRetry, backoff).
 */
export async function transfer(client, { from, to, amountCents }, options = {}) {
  positiveInteger(amountCents, 'a transfer');
  if (from === to) throw new InvalidInputError('a transfer needs two different accounts');
  return withSerializableRetry(
    client,
    async (c, attempt) => {
      const { rows } = await c.query('SELECT id, balance_cents FROM accounts WHERE id = ANY($1::bigint[])', [[from, to]]);
      const balance = new Map(rows.map((r) => [Number(r.id), Number(r.balance_cents)]));
      for (const id of [from, to]) if (!balance.has(id)) throw new NotFoundError(`account ${id} does not exist`);
      if (balance.get(from) < amountCents) {
        throw new InsufficientFundsError(`account ${from} has ${balance.get(from)} cents, ${amountCents} needed`);
      }
      // Both rows are written in id order, so two opposite transfers cannot deadlock on each other.
      const moves = [
        { id: from, delta: -amountCents, kind: 'transfer_out', reference: `to account ${to}` },
        { id: to, delta: amountCents, kind: 'transfer_in', reference: `from account ${from}` },
      ].sort((a, b) => a.id - b.id);
      const after = {};
      for (const m of moves) {
        const updated = await c.query('UPDATE accounts SET balance_cents = balance_cents + $2 WHERE id = $1 RETURNING balance_cents', [m.id, m.delta]);
        after[m.id] = Number(updated.rows[0].balance_cents);
        await c.query('INSERT INTO ledger_entries (account_id, kind, amount_cents, reference) VALUES ($1, $2, $3, $4)', [m.id, m.kind, m.delta, m.reference]);
      }
      return { fromBalanceCents: after[from], toBalanceCents: after[to], attempts: attempt };
    },
    options,
  );
}
