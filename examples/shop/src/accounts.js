// Accounts and their money: every change of a balance is one transaction that also writes a ledger entry.
import { EmailTakenError, InsufficientFundsError, InvalidInputError, NotFoundError, SQLSTATE, isPgError, positiveInteger } from './errors.js';
import { withTransaction } from './transactions.js';

// pg returns bigint columns as strings; cents stay far below 2^53, so numbers are exact.
function toAccount(row) {
  return { id: Number(row.id), email: row.email, name: row.name, balanceCents: Number(row.balance_cents), createdAt: row.created_at };
}

/** Creates an account with a zero balance. The database decides uniqueness (case-insensitive) and email format. */
export async function createAccount(client, { email, name }) {
  try {
    const { rows } = await client.query(
      'INSERT INTO accounts (email, name) VALUES ($1, $2) RETURNING id, email, name, balance_cents, created_at',
      [email, name],
    );
    return toAccount(rows[0]);
  } catch (err) {
    if (isPgError(err, SQLSTATE.uniqueViolation, 'accounts_email_unique')) {
      throw new EmailTakenError(`an account for ${email} already exists`, { cause: err });
    }
    if (isPgError(err, SQLSTATE.checkViolation, 'accounts_email_format')) {
      throw new InvalidInputError(`${JSON.stringify(email)} is not an email address`, { cause: err });
    }
    if (isPgError(err, SQLSTATE.checkViolation, 'accounts_name_present')) {
      throw new InvalidInputError('an account needs a name', { cause: err });
    }
    throw err;
  }
}

export async function getAccount(client, id) {
  const { rows } = await client.query('SELECT id, email, name, balance_cents, created_at FROM accounts WHERE id = $1', [id]);
  return rows.length === 0 ? null : toAccount(rows[0]);
}

export async function findAccountByEmail(client, email) {
  const { rows } = await client.query('SELECT id, email, name, balance_cents, created_at FROM accounts WHERE lower(email) = lower($1)', [email]);
  return rows.length === 0 ? null : toAccount(rows[0]);
}

/**
 * Moves money in or out of an account inside the caller's transaction and records it in the ledger. Money out
 * is only taken when the balance covers it (the CHECK on balance_cents is the backstop, not the rule).
 * Returns the new balance.
 */
export async function applyMovement(client, accountId, amountCents, kind, reference = null) {
  const { rows } = await client.query(
    `UPDATE accounts SET balance_cents = balance_cents + $2
      WHERE id = $1 AND balance_cents + $2 >= 0
      RETURNING balance_cents`,
    [accountId, amountCents],
  );
  if (rows.length === 0) {
    const account = await getAccount(client, accountId);
    if (account === null) throw new NotFoundError(`account ${accountId} does not exist`);
    throw new InsufficientFundsError(`account ${accountId} has ${account.balanceCents} cents, ${-amountCents} needed`);
  }
  await client.query('INSERT INTO ledger_entries (account_id, kind, amount_cents, reference) VALUES ($1, $2, $3, $4)', [
    accountId,
    kind,
    amountCents,
    reference,
  ]);
  return Number(rows[0].balance_cents);
}

export async function deposit(client, accountId, amountCents, reference = null) {
  positiveInteger(amountCents, 'a deposit');
  return withTransaction(client, () => applyMovement(client, accountId, amountCents, 'deposit', reference));
}

export async function withdraw(client, accountId, amountCents, reference = null) {
  positiveInteger(amountCents, 'a withdrawal');
  return withTransaction(client, () => applyMovement(client, accountId, -amountCents, 'withdrawal', reference));
}

/** The ledger of one account, oldest first, each entry with the balance after it. */
export async function statement(client, accountId) {
  const { rows } = await client.query(
    `SELECT kind, amount_cents, reference, sum(amount_cents) OVER (ORDER BY id) AS balance_after
       FROM ledger_entries WHERE account_id = $1 ORDER BY id`,
    [accountId],
  );
  return rows.map((r) => ({ kind: r.kind, amountCents: Number(r.amount_cents), reference: r.reference, balanceAfterCents: Number(r.balance_after) }));
}
