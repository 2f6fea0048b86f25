// The one database-error classifier (src/protocol/faults.ts): a server error needs a SQLSTATE and the protocol's
// severity; connection faults are known by code or message; wrapped errors are found under the keys the common
// libraries use; sessionLost says whether the session itself is gone.
import { expect } from 'chai';
import { findDatabaseFault, isConnectionError } from '../../src/protocol/faults.js';

/** node-postgres's DatabaseError: name 'error', a SQLSTATE code, a severity. */
function pgError(code: string, message: string): Error {
  return Object.assign(new Error(message), { name: 'error', code, severity: 'ERROR' });
}

describe('unit: findDatabaseFault, the database-error classifier', () => {
  it('reads a server error with a SQLSTATE', () => {
    expect(findDatabaseFault(pgError('23505', 'duplicate key'))).to.deep.equal({ kind: 'sql', sqlstate: '23505', message: 'duplicate key', sessionLost: false });
  });

  it('takes the severity field alone as the mark of a server error', () => {
    const e = Object.assign(new Error('deadlock detected'), { code: '40P01', severity: 'ERROR' });
    expect(findDatabaseFault(e)).to.include({ kind: 'sql', sqlstate: '40P01' });
  });

  it('does not take a bare five-character code for a SQLSTATE (EPIPE is a connection fault, P2002 is nothing)', () => {
    expect(findDatabaseFault(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))).to.deep.equal({ kind: 'connection', sqlstate: 'EPIPE', message: 'write EPIPE', sessionLost: true });
    expect(findDatabaseFault(Object.assign(new Error('Unique constraint failed'), { code: 'P2002' }))).to.equal(undefined);
  });

  it('marks the session lost for the SQLSTATEs after which the server ends it (08xxx, 57P01-57P03), not for others', () => {
    for (const code of ['57P01', '57P02', '57P03', '08006', '08003']) expect(findDatabaseFault(pgError(code, 'x'))?.sessionLost, code).to.equal(true);
    for (const code of ['57014', '23505', '40001', '25P02']) expect(findDatabaseFault(pgError(code, 'x'))?.sessionLost, code).to.equal(false);
  });

  it('knows connection faults by system code and by message', () => {
    expect(findDatabaseFault(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).to.include({ kind: 'connection', sqlstate: 'ECONNRESET', sessionLost: true });
    for (const message of ['Connection terminated unexpectedly', 'Client was closed and is not queryable', 'Client has already been connected. You cannot reuse a client.']) {
      expect(findDatabaseFault(new Error(message)), message).to.deep.equal({ kind: 'connection', message, sessionLost: true });
    }
  });

  it('finds nothing in an ordinary error, a thrown string or null', () => {
    expect(findDatabaseFault(new Error('expected 1 to equal 2'))).to.equal(undefined);
    expect(findDatabaseFault('boom')).to.equal(undefined);
    expect(findDatabaseFault(null)).to.equal(undefined);
  });

  describe('wrapped errors', () => {
    const inner = pgError('23503', 'insert or update violates foreign key constraint');
    const shapes: Record<string, unknown> = {
      'Error cause': new Error('saving the order failed', { cause: inner }),
      'knex (the driver error, message prefixed with the query)': Object.assign(new Error(`insert into "orders" - ${inner.message}`), { name: 'error', code: '23503', severity: 'ERROR' }),
      'Sequelize (parent and original)': Object.assign(new Error('ForeignKeyConstraintError'), { name: 'SequelizeForeignKeyConstraintError', parent: inner, original: inner }),
      'TypeORM QueryFailedError (driverError)': Object.assign(new Error(inner.message), { name: 'QueryFailedError', driverError: inner, query: 'INSERT ...' }),
      'Prisma (its own P-code, the driver error under cause)': Object.assign(new Error('Foreign key constraint failed'), { name: 'PrismaClientKnownRequestError', code: 'P2003', cause: inner }),
      'an originalError two levels down': { message: 'outer', error: { message: 'middle', originalError: inner } },
      'AggregateError errors': new AggregateError([new Error('first'), inner], 'several'),
    };
    for (const [shape, err] of Object.entries(shapes)) {
      it(`finds the SQLSTATE inside ${shape}`, () => {
        expect(findDatabaseFault(err)).to.include({ kind: 'sql', sqlstate: '23503', sessionLost: false });
      });
    }

    it('prefers a server error deeper in the chain over a connection-looking message above it', () => {
      const e = new Error('connection error while saving', { cause: pgError('57P01', 'terminating connection due to administrator command') });
      expect(findDatabaseFault(e)).to.include({ kind: 'sql', sqlstate: '57P01', sessionLost: true });
    });

    it('stops on a cycle', () => {
      const a: Record<string, unknown> = { message: 'a' };
      const b: Record<string, unknown> = { message: 'b', cause: a };
      a['cause'] = b;
      expect(findDatabaseFault(a)).to.equal(undefined);
    });
  });

  it('isConnectionError: the session is gone (connection faults, session-ending SQLSTATEs), not a failed statement', () => {
    expect(isConnectionError(new Error('Connection terminated'))).to.equal(true);
    expect(isConnectionError(pgError('57P01', 'terminating connection'))).to.equal(true);
    expect(isConnectionError(pgError('23505', 'duplicate key'))).to.equal(false);
    expect(isConnectionError(new Error('plain'))).to.equal(false);
  });
});
