import { expect } from 'chai';
import { db } from 'bulkhead';
import { InsufficientFundsError, InvalidInputError, getAccount, statement, transfer } from '../src/index.js';
import { backendPid, rejectionOf, scenario, waitUntilBlocked } from './support.js';

describe('transfers', function () {
  const s = scenario();

  it('moves money between two accounts and records both sides', async function () {
    const client = await db();
    const ann = await s.account('ann', 3_000);
    const bob = await s.account('bob', 0);
    const result = await transfer(client, { from: ann.id, to: bob.id, amountCents: 1_250 });
    expect(result).to.deep.equal({ fromBalanceCents: 1_750, toBalanceCents: 1_250, attempts: 1 });
    expect((await statement(client, ann.id)).at(-1)).to.include({ kind: 'transfer_out', amountCents: -1_250 });
    expect((await statement(client, bob.id)).at(-1)).to.include({ kind: 'transfer_in', amountCents: 1_250 });
  });

  it('does not retry when the money is not there', async function () {
    const client = await db();
    const ann = await s.account('ann', 100);
    const bob = await s.account('bob', 0);
    const retries = [];
    const err = await rejectionOf(transfer(client, { from: ann.id, to: bob.id, amountCents: 101 }, { onRetry: (e) => retries.push(e) }));
    expect(err).to.be.an.instanceOf(InsufficientFundsError);
    expect(retries).to.deep.equal([]);
    expect((await getAccount(client, ann.id))?.balanceCents).to.equal(100);
  });

  it('refuses a transfer from an account to itself', async function () {
    const ann = await s.account('ann', 100);
    const err = await rejectionOf(transfer(await db(), { from: ann.id, to: ann.id, amountCents: 1 }));
    expect(err).to.be.an.instanceOf(InvalidInputError);
  });

  describe('against a concurrent deposit', function () {
    // Another session deposits to the payer and holds its row, uncommitted. The transfer takes its snapshot,
    // reads the old balance and waits for that row; when the deposit commits, PostgreSQL cannot serialize the
    // transfer after it and fails it with 40001. Every step waits on the server's lock table, not on time.
    async function depositHeldOpen(other, accountId, amountCents) {
      await other.query('BEGIN');
      await other.query('UPDATE accounts SET balance_cents = balance_cents + $2 WHERE id = $1', [accountId, amountCents]);
      await other.query("INSERT INTO ledger_entries (account_id, kind, amount_cents) VALUES ($1, 'deposit', $2)", [accountId, amountCents]);
    }

    it('retries after a serialization failure (40001) and then succeeds', async function () {
      const client = await db();
      const ann = await s.account('ann', 10_000);
      const bob = await s.account('bob', 0);
      const other = await s.connect();
      await depositHeldOpen(other, ann.id, 500);
      const pid = await backendPid(client);
      const retries = [];
      const pending = transfer(
        client,
        { from: ann.id, to: bob.id, amountCents: 2_000 },
        { onRetry: (err, attempt) => retries.push({ code: err.code, attempt }), backoff: () => 0 },
      );
      await waitUntilBlocked(other, pid, pending);
      await other.query('COMMIT');
      const result = await pending;
      expect(retries).to.deep.equal([{ code: '40001', attempt: 1 }]);
      // The second attempt saw the deposit: nothing was lost.
      expect(result).to.deep.equal({ fromBalanceCents: 10_000 + 500 - 2_000, toBalanceCents: 2_000, attempts: 2 });
      expect((await statement(client, ann.id)).map((e) => e.amountCents)).to.deep.equal([10_000, 500, -2_000]);
    });

    it('gives up after maxAttempts and reports the serialization failure (40001)', async function () {
      const client = await db();
      const ann = await s.account('ann', 10_000);
      const bob = await s.account('bob', 0);
      const other = await s.connect();
      await depositHeldOpen(other, ann.id, 500);
      const pid = await backendPid(client);
      const pending = transfer(client, { from: ann.id, to: bob.id, amountCents: 2_000 }, { maxAttempts: 1 });
      await waitUntilBlocked(other, pid, pending);
      await other.query('COMMIT');
      const err = await rejectionOf(pending);
      expect(err).to.include({ code: '40001' });
      expect((await getAccount(client, ann.id))?.balanceCents).to.equal(10_500);
      expect((await getAccount(client, bob.id))?.balanceCents).to.equal(0);
    });
  });
});
