import { expect } from 'chai';
import { db } from 'bulkhead';
import { EmailTakenError, InvalidInputError, createAccount, findAccountByEmail, getAccount } from '../src/index.js';
import { rejectionOf, scenario } from './support.js';

describe('accounts', function () {
  const s = scenario();

  it('opens an account with a zero balance', async function () {
    const client = await db();
    const account = await createAccount(client, { email: s.email('ann'), name: 'Ann' });
    expect(account).to.include({ email: s.email('ann'), name: 'Ann', balanceCents: 0 });
    expect(await getAccount(client, account.id)).to.deep.equal(account);
  });

  it('finds an account by email whatever its case', async function () {
    const client = await db();
    const account = await s.account('Carla');
    const found = await findAccountByEmail(client, s.email('Carla').toUpperCase());
    expect(found?.id).to.equal(account.id);
  });

  it('refuses a second account for the same email in another case (unique violation 23505)', async function () {
    const client = await db();
    await createAccount(client, { email: s.email('bob'), name: 'Bob' });
    const err = await rejectionOf(createAccount(client, { email: s.email('bob').toUpperCase(), name: 'Bobby' }));
    expect(err).to.be.an.instanceOf(EmailTakenError);
    expect(err.cause).to.include({ code: '23505', constraint: 'accounts_email_unique' });
    // The failed INSERT ran in its own implicit transaction: the connection is still usable, with one account.
    const { rows } = await client.query('SELECT name FROM accounts WHERE lower(email) = lower($1)', [s.email('bob')]);
    expect(rows).to.deep.equal([{ name: 'Bob' }]);
  });

  it('refuses a malformed email through its CHECK constraint (23514) and stores nothing', async function () {
    const client = await db();
    const email = s.email('no-at-sign').replace('@', '.');
    const err = await rejectionOf(createAccount(client, { email, name: 'Nobody' }));
    expect(err).to.be.an.instanceOf(InvalidInputError);
    expect(err.cause).to.include({ code: '23514', constraint: 'accounts_email_format' });
    expect(await findAccountByEmail(client, email)).to.equal(null);
  });
});
