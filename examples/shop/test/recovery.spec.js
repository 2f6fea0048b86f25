// What happens to the worker's connection when a database error meets a transaction. The first test shows the
// application doing it right; the second leaves its connection broken on purpose, and bulkhead replaces it after
// the test (it appears in the "connection rebuilds" summary at the end of the run).
import { expect } from 'chai';
import { db } from 'bulkhead';
import { EmailTakenError, createAccount, findAccountByEmail, withTransaction } from '../src/index.js';
import { randomTag, rejectionOf } from './support.js';

describe('recovery', function () {
  // No scenario() here: everything these tests write is rolled back, so there is nothing to delete (and the
  // second test's connection could not run a cleanup anyway).
  let email = '';
  beforeEach(function () {
    email = `ann.${randomTag()}@shop.test`;
  });

  it('rolls back the whole transaction after an error and leaves the connection idle', async function () {
    const client = await db();
    const err = await rejectionOf(
      withTransaction(client, async () => {
        await createAccount(client, { email, name: 'Ann' });
        await createAccount(client, { email, name: 'Ann again' });
      }),
    );
    expect(err).to.be.an.instanceOf(EmailTakenError);
    expect(client.getTransactionStatus()).to.equal('I');
    expect(await findAccountByEmail(client, email)).to.equal(null);
  });

  it('cannot repair an explicit transaction by catching the error: it stays aborted (25P02)', async function () {
    const client = await db();
    await client.query('BEGIN');
    await createAccount(client, { email, name: 'Ann' });
    const err = await rejectionOf(createAccount(client, { email, name: 'Ann again' }));
    expect(err).to.be.an.instanceOf(EmailTakenError);
    const next = await rejectionOf(client.query('SELECT 1'));
    expect(next).to.include({ code: '25P02' });
    expect(client.getTransactionStatus()).to.equal('E');
    // Deliberately no ROLLBACK. When this test ends, bulkhead finds the transaction aborted, closes this
    // connection (the server rolls Ann back) and the next test on this worker gets a fresh one.
  });
});
