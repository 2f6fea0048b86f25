// The reset rule for the application's own sessions (judgeSessions in workers/reset.ts) as a pure function: which
// sessions a test left that bulkhead ends, and the before-hook exception judged per suite.
import { expect } from 'chai';
import { judgeSessions } from '../../workers/reset.js';
import type { AppSession, SessionContext } from '../../workers/reset.js';

const session = (over: Partial<AppSession>): AppSession => ({ pid: 7, state: 'idle', applicationName: 'app', xactStart: null, queryStart: null, ...over });
// A file whose root suite's before-all hooks ran from 0 to 10, an inner suite's from 10 to 20, and a test from 100.
const CTX: SessionContext = { testStart: 100, suiteWindows: [{ from: 0, to: 10 }, { from: 10, to: 20 }], failedWithDbError: false };

describe('unit: judgeSessions, the reset rule for the application\'s sessions', () => {
  it('keeps idle sessions after a passing test, whenever they last ran a statement', () => {
    expect(judgeSessions([session({ queryStart: 150 }), session({ pid: 8, queryStart: 5 })], CTX)).to.deep.equal([]);
  });

  it('ends a session idle in an aborted transaction, wherever the transaction began', () => {
    expect(judgeSessions([session({ state: 'idle in transaction (aborted)', xactStart: 5, queryStart: 120 })], CTX)).to.deep.equal([{ pid: 7, reasons: ['aborted-transaction'] }]);
  });

  it('ends a session idle in a transaction the test began', () => {
    expect(judgeSessions([session({ state: 'idle in transaction', xactStart: 101, queryStart: 120 })], CTX)).to.deep.equal([{ pid: 7, reasons: ['in-transaction'] }]);
  });

  it('keeps a transaction begun by a before hook of an enclosing suite, the exception db() has', () => {
    const s = [session({ state: 'idle in transaction', xactStart: 3, queryStart: 120 }), session({ pid: 8, state: 'idle in transaction', xactStart: 15 })];
    expect(judgeSessions(s, CTX)).to.deep.equal([]);
  });

  it('ends a transaction begun between the windows (by an earlier suite, now closed, or an earlier test)', () => {
    const s = [session({ state: 'idle in transaction', xactStart: 20 }), session({ pid: 8, state: 'idle in transaction', xactStart: 50 })];
    expect(judgeSessions(s, CTX).map((v) => v.pid)).to.deep.equal([7, 8]);
  });

  it('ends an open transaction at the end of a file, where no suite is open', () => {
    expect(judgeSessions([session({ state: 'idle in transaction', xactStart: 3 })], { testStart: null, suiteWindows: [], failedWithDbError: false })).to.deep.equal([{ pid: 7, reasons: ['in-transaction'] }]);
  });

  it('after a database failure, ends every session that ran a statement during the test, and only those', () => {
    const ctx = { ...CTX, failedWithDbError: true };
    const s = [session({ queryStart: 130 }), session({ pid: 8, queryStart: 50 }), session({ pid: 9, state: 'active', queryStart: 100 }), session({ pid: 10, queryStart: null })];
    expect(judgeSessions(s, ctx)).to.deep.equal([{ pid: 7, reasons: ['failed-test'] }, { pid: 9, reasons: ['failed-test'] }]);
  });

  it('lists every reason that holds', () => {
    const s = [session({ state: 'idle in transaction (aborted)', xactStart: 101, queryStart: 102 })];
    expect(judgeSessions(s, { ...CTX, failedWithDbError: true })).to.deep.equal([{ pid: 7, reasons: ['aborted-transaction', 'failed-test'] }]);
  });

  it('does not end the failed-test sessions at the end of a file (no test to have failed)', () => {
    expect(judgeSessions([session({ queryStart: 130 })], { testStart: null, suiteWindows: [], failedWithDbError: true })).to.deep.equal([]);
  });
});
