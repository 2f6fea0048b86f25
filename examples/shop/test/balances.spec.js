import { expect } from 'chai';
import { db } from 'bulkhead';
import { InsufficientFundsError, InvalidInputError, NotFoundError, deposit, getAccount, statement, withdraw } from '../src/index.js';
import { MISSING_ID, rejectionOf, scenario } from './support.js';

describe('balances', function () {
  const s = scenario();

  it('records deposits and withdrawals in the ledger, with the running balance', async function () {
    const client = await db();
    const ann = await s.account('ann');
    expect(await deposit(client, ann.id, 5_000)).to.equal(5_000);
    expect(await withdraw(client, ann.id, 1_200, 'cash machine')).to.equal(3_800);
    expect(await statement(client, ann.id)).to.deep.equal([
      { kind: 'deposit', amountCents: 5_000, reference: null, balanceAfterCents: 5_000 },
      { kind: 'withdrawal', amountCents: -1_200, reference: 'cash machine', balanceAfterCents: 3_800 },
    ]);
    expect((await getAccount(client, ann.id))?.balanceCents).to.equal(3_800);
  });

  it('refuses a withdrawal larger than the balance and changes nothing', async function () {
    const client = await db();
    const bob = await s.account('bob', 1_000);
    const err = await rejectionOf(withdraw(client, bob.id, 1_001));
    expect(err).to.be.an.instanceOf(InsufficientFundsError);
    expect((await getAccount(client, bob.id))?.balanceCents).to.equal(1_000);
    expect(await statement(client, bob.id)).to.have.lengthOf(1); // the opening deposit only
  });

  it('refuses zero, negative and fractional amounts', async function () {
    const client = await db();
    const cleo = await s.account('cleo', 500);
    for (const amount of [0, -5, 1.5]) {
      expect(await rejectionOf(deposit(client, cleo.id, amount))).to.be.an.instanceOf(InvalidInputError);
      expect(await rejectionOf(withdraw(client, cleo.id, amount))).to.be.an.instanceOf(InvalidInputError);
    }
    expect(await statement(client, cleo.id)).to.have.lengthOf(1);
  });

  it('says which account is missing when depositing to one that does not exist', async function () {
    const err = await rejectionOf(deposit(await db(), MISSING_ID, 100));
    expect(err).to.be.an.instanceOf(NotFoundError);
    expect(err.message).to.include(String(MISSING_ID));
  });

  it('has a schema that refuses a negative balance even when the application check is bypassed (23514)', async function () {
    const client = await db();
    const dan = await s.account('dan', 300);
    const err = await rejectionOf(client.query('UPDATE accounts SET balance_cents = balance_cents - 301 WHERE id = $1', [dan.id]));
    expect(err).to.include({ code: '23514', constraint: 'accounts_balance_nonnegative' });
    expect((await getAccount(client, dan.id))?.balanceCents).to.equal(300);
  });
});
