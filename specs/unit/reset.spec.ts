// The reset rule (workers/reset.ts) as a pure function: every reason to discard the worker's connection, the
// before-test phase, and the failures that cost nothing (assertions, database errors the test handled).
import { expect } from 'chai';
import { shouldDiscard } from '../../workers/reset.js';
import type { ConnectionSnapshot } from '../../workers/reset.js';

const IDLE: ConnectionSnapshot = { errored: null, ended: false, txStatus: 'I', queryActive: false };
const conn = (over: Partial<ConnectionSnapshot>): ConnectionSnapshot => ({ ...IDLE, ...over });
/** What node-postgres throws for a server error: a SQLSTATE code and the protocol's severity. */
const serverError = (code: string, message: string): Error => Object.assign(new Error(message), { code, severity: 'ERROR' });
const timeout = (): Error => Object.assign(new Error('Timeout of 2000ms exceeded.'), { code: 'ERR_MOCHA_TIMEOUT' });

describe('unit: shouldDiscard, the reset rule', () => {
  it('keeps an idle, healthy connection after a passing test', () => {
    expect(shouldDiscard({ connection: IDLE, atEnd: true })).to.deep.equal({ reasons: [] });
  });

  it('keeps the connection after a plain assertion failure', () => {
    const err = Object.assign(new Error('expected 1 to equal 2'), { actual: 1, expected: 2 });
    expect(shouldDiscard({ error: err, connection: IDLE, atEnd: false })).to.deep.equal({ reasons: [] });
  });

  it('keeps the connection when the test handled a database error itself (no failure, idle afterwards)', () => {
    // The test caught its 23505 and rolled back: what reaches the rule is a passing test on an idle connection.
    expect(shouldDiscard({ connection: conn({ txStatus: 'I' }), atEnd: true })).to.deep.equal({ reasons: [] });
  });

  it('discards after a server error with a SQLSTATE, naming it', () => {
    const d = shouldDiscard({ error: serverError('23505', 'duplicate key value violates unique constraint'), connection: IDLE, atEnd: false });
    expect(d).to.deep.equal({ reasons: ['db-error'], fault: { kind: 'sql', sqlstate: '23505', message: 'duplicate key value violates unique constraint', sessionLost: false } });
  });

  it('discards after a server error an ORM wrapped (Sequelize\'s parent)', () => {
    const wrapped = Object.assign(new Error('Validation error'), { name: 'SequelizeUniqueConstraintError', parent: serverError('23505', 'duplicate key') });
    expect(shouldDiscard({ error: wrapped, connection: IDLE, atEnd: false }).reasons).to.deep.equal(['db-error']);
  });

  it('discards after a connection-level error in the failure', () => {
    const d = shouldDiscard({ error: new Error('Connection terminated unexpectedly'), connection: IDLE, atEnd: false });
    expect(d.reasons).to.deep.equal(['connection-error']);
    expect(d.fault).to.include({ kind: 'connection', sessionLost: true });
  });

  it('discards when the client emitted "error", with the error as the fault, even after a passing test', () => {
    const d = shouldDiscard({ connection: conn({ errored: new Error('read ECONNRESET') }), atEnd: true });
    expect(d).to.deep.equal({ reasons: ['connection-error'], fault: { kind: 'connection', message: 'read ECONNRESET', sessionLost: true } });
  });

  it('names a connection error once when both the failure and the client say so', () => {
    const d = shouldDiscard({ error: new Error('Connection terminated'), connection: conn({ errored: new Error('Connection terminated') }), atEnd: false });
    expect(d.reasons).to.deep.equal(['connection-error']);
  });

  it('discards a connection that ended (its socket closed, or end() was called)', () => {
    expect(shouldDiscard({ connection: conn({ ended: true }), atEnd: true }).reasons).to.deep.equal(['connection-ended']);
  });

  it('discards at the end of a test a connection left in a transaction or an aborted one', () => {
    expect(shouldDiscard({ connection: conn({ txStatus: 'T' }), atEnd: true }).reasons).to.deep.equal(['in-transaction']);
    expect(shouldDiscard({ connection: conn({ txStatus: 'E' }), atEnd: true }).reasons).to.deep.equal(['aborted-transaction']);
  });

  it('does not judge the transaction state before the test\'s own hooks are done (a failure mid-test)', () => {
    // BEGIN in beforeEach with ROLLBACK in afterEach is fine: only the end of the test counts.
    expect(shouldDiscard({ error: new Error('expected true'), connection: conn({ txStatus: 'T' }), atEnd: false }).reasons).to.deep.equal([]);
    expect(shouldDiscard({ connection: conn({ txStatus: 'E' }), atEnd: false }).reasons).to.deep.equal([]);
  });

  it('before a test: discards an aborted transaction, keeps an open one (a before-all hook may have begun it)', () => {
    expect(shouldDiscard({ connection: conn({ txStatus: 'E' }), atEnd: false, beforeTest: true }).reasons).to.deep.equal(['aborted-transaction']);
    expect(shouldDiscard({ connection: conn({ txStatus: 'T' }), atEnd: false, beforeTest: true }).reasons).to.deep.equal([]);
  });

  it('before a test: discards a connection broken since the previous test (work it left running)', () => {
    expect(shouldDiscard({ connection: conn({ errored: new Error('Connection terminated') }), atEnd: false, beforeTest: true }).reasons).to.deep.equal(['connection-error']);
    expect(shouldDiscard({ connection: conn({ ended: true }), atEnd: false, beforeTest: true }).reasons).to.deep.equal(['connection-ended']);
  });

  it('does not add transaction reasons to a connection that broke or ended', () => {
    expect(shouldDiscard({ connection: conn({ ended: true, txStatus: 'E' }), atEnd: true }).reasons).to.deep.equal(['connection-ended']);
  });

  it('discards after a timeout only while a query was running', () => {
    expect(shouldDiscard({ error: timeout(), connection: conn({ queryActive: true }), atEnd: false }).reasons).to.deep.equal(['timeout-during-query']);
    expect(shouldDiscard({ error: timeout(), connection: IDLE, atEnd: false }).reasons).to.deep.equal([]);
  });

  it('without a connection (the test never called db()), only the failure itself can be a database fault', () => {
    expect(shouldDiscard({ error: new Error('plain'), connection: null, atEnd: true })).to.deep.equal({ reasons: [] });
    expect(shouldDiscard({ error: serverError('42P01', 'relation "x" does not exist'), connection: null, atEnd: false }).reasons).to.deep.equal(['db-error']);
    expect(shouldDiscard({ error: timeout(), connection: null, atEnd: false }).reasons).to.deep.equal([]);
  });

  it('lists several reasons together when several hold', () => {
    const d = shouldDiscard({ error: serverError('40001', 'could not serialize access'), connection: conn({ txStatus: 'E' }), atEnd: true });
    expect(d.reasons).to.deep.equal(['db-error', 'aborted-transaction']);
  });
});
