// --transaction's pure core: how a query string is split into statements, and what the application's BEGIN /
// COMMIT / ROLLBACK become inside a test's transaction (savepoints, one level per open BEGIN). The connection
// wrapper is driven with a stand-in that records what would reach the server; one case runs on PostgreSQL itself,
// to hold the assumption the rest rests on (a failing statement skips the rest of its string).
import { expect } from 'chai';
import pg from 'pg';
import { splitStatements } from '../../workers/statements.js';
import { NOTHING, translateStatement, translateStatements } from '../../workers/savepoints.js';
import { beginScope, endScope, wrapForTransactions } from '../../workers/transaction.js';
import { SERVER_URL } from '../helpers/fixture.js';

describe('transaction: splitting a query string into statements', () => {
  it('leaves a single statement whole (null), whatever semicolons and comments close it', () => {
    for (const sql of ['SELECT 1', 'SELECT 1;', 'SELECT 1; -- done', 'SELECT 1; /* trailing */ ;', '  ']) expect(splitStatements(sql), sql).to.equal(null);
  });

  it('splits on the semicolons between statements, keeping each statement as written', () => {
    expect(splitStatements('BEGIN; INSERT INTO t VALUES (1);\nCOMMIT;')).to.deep.equal(['BEGIN', ' INSERT INTO t VALUES (1)', '\nCOMMIT']);
  });

  it('does not split inside strings, quoted identifiers, dollar quotes or comments', () => {
    expect(splitStatements(`SELECT 'a;b', "c;d"; SELECT $$e;f$$, $fn$ g; $$; $fn$`)).to.deep.equal([`SELECT 'a;b', "c;d"`, ` SELECT $$e;f$$, $fn$ g; $$; $fn$`]);
    expect(splitStatements("SELECT 'it''s;'; SELECT E'\\';'; SELECT 3")).to.deep.equal(["SELECT 'it''s;'", " SELECT E'\\';'", ' SELECT 3']);
    expect(splitStatements('SELECT 1 -- not; here\n; /* a /* nested; */ still; */ SELECT 2')).to.deep.equal(['SELECT 1 -- not; here\n', ' /* a /* nested; */ still; */ SELECT 2']);
  });

  it('reads $1 as a parameter, not as the start of a dollar quote', () => {
    expect(splitStatements('SELECT $1; SELECT $2')).to.deep.equal(['SELECT $1', ' SELECT $2']);
  });

  it('leaves a string it cannot follow (an unterminated quote) whole rather than split it wrongly', () => {
    expect(splitStatements("SELECT 'open; SELECT 2")).to.equal(null);
  });
});

describe('transaction: the savepoint translation of one statement', () => {
  const cases: [string, number, ReturnType<typeof translateStatement>][] = [
    ['BEGIN', 0, { sql: 'SAVEPOINT bulkhead_1', depth: 1 }],
    ['start transaction isolation level serializable;', 2, { sql: 'SAVEPOINT bulkhead_3', depth: 3 }],
    ['/* app */ -- note\n begin work', 0, { sql: 'SAVEPOINT bulkhead_1', depth: 1 }],
    ['COMMIT', 1, { sql: 'RELEASE SAVEPOINT bulkhead_1', depth: 0, ifFailed: 'ROLLBACK TO SAVEPOINT bulkhead_1; RELEASE SAVEPOINT bulkhead_1' }],
    ['end transaction;', 2, { sql: 'RELEASE SAVEPOINT bulkhead_2', depth: 1, ifFailed: 'ROLLBACK TO SAVEPOINT bulkhead_2; RELEASE SAVEPOINT bulkhead_2' }],
    ['COMMIT AND CHAIN', 1, { sql: 'RELEASE SAVEPOINT bulkhead_1; SAVEPOINT bulkhead_1', depth: 1, ifFailed: 'ROLLBACK TO SAVEPOINT bulkhead_1' }],
    ['ROLLBACK', 2, { sql: 'ROLLBACK TO SAVEPOINT bulkhead_2; RELEASE SAVEPOINT bulkhead_2', depth: 1 }],
    ['abort work and no chain', 1, { sql: 'ROLLBACK TO SAVEPOINT bulkhead_1; RELEASE SAVEPOINT bulkhead_1', depth: 0 }],
    ['ROLLBACK AND CHAIN', 1, { sql: 'ROLLBACK TO SAVEPOINT bulkhead_1', depth: 1 }],
    // Without the application's BEGIN, PostgreSQL would only warn: the test's transaction is not ended either.
    ['COMMIT', 0, { sql: NOTHING, depth: 0 }],
    ['ROLLBACK', 0, { sql: NOTHING, depth: 0 }],
  ];
  for (const [sql, depth, expected] of cases) {
    it(`${JSON.stringify(sql)} at depth ${depth}`, () => {
      expect(translateStatement(sql, depth)).to.deep.equal(expected);
    });
  }

  it('passes on what is no transaction control of this session (null)', () => {
    for (const sql of ['SELECT 1', "SELECT 'BEGIN'", 'BEGINNING', "COMMIT PREPARED 'x'", "ROLLBACK PREPARED 'x'", 'SAVEPOINT mine', 'ROLLBACK TO SAVEPOINT mine', 'RELEASE SAVEPOINT mine']) {
      expect(translateStatement(sql, 1), sql).to.equal(null);
    }
  });
});

describe('transaction: the savepoint translation of a multi-statement string', () => {
  it('is null for a single statement (translated on its own)', () => {
    expect(translateStatements('COMMIT;', 1)).to.equal(null);
  });

  it('translates each statement in turn; a COMMIT that is reached is a plain release', () => {
    expect(translateStatements('BEGIN; INSERT INTO t VALUES (1); COMMIT', 0)).to.deep.equal({
      sql: 'SAVEPOINT bulkhead_1;\n INSERT INTO t VALUES (1);\nRELEASE SAVEPOINT bulkhead_1',
      depth: 0,
      onFailure: 1,
    });
  });

  it('falls back on failure to the depth of its last BEGIN, or to where it started without one', () => {
    expect(translateStatements('BEGIN; BEGIN; SELECT 1; COMMIT', 0)).to.include({ depth: 1, onFailure: 2 });
    expect(translateStatements('INSERT INTO t VALUES (1); ROLLBACK', 1)).to.include({ depth: 0, onFailure: 1 });
  });
});

/** A connection stand-in: records every query text that would reach the server; `fail` decides which fail. */
function standIn(fail: (sql: string) => { code: string } | null = () => null): { client: pg.Client; sent: string[] } {
  const sent: string[] = [];
  const query = (arg: unknown, ...rest: unknown[]): unknown => {
    const sql = typeof arg === 'string' ? arg : (arg as { text: string }).text;
    sent.push(sql);
    const error = fail(sql);
    const result = error === null ? Promise.resolve({ rows: [] }) : Promise.reject(Object.assign(new Error(`${error.code} for ${sql}`), error));
    const callback = rest.find((r): r is (err: unknown, res?: unknown) => void => typeof r === 'function');
    if (callback === undefined) return result;
    result.then((res) => callback(null, res), (err: unknown) => callback(err));
    return undefined;
  };
  const client = { query } as unknown as pg.Client;
  wrapForTransactions(client);
  return { client, sent };
}

const ROLLBACK_1 = 'ROLLBACK TO SAVEPOINT bulkhead_1; RELEASE SAVEPOINT bulkhead_1';
const failsOn = (word: string) => (sql: string): { code: string } | null => (sql.includes(word) ? { code: '22012' } : null);

describe('transaction: the connection wrapper (no server)', () => {
  afterEach(async () => {
    await endScope();
  });

  it('passes every query on as written outside a test scope', async () => {
    const { client, sent } = standIn();
    await client.query('BEGIN');
    await client.query('COMMIT');
    expect(sent).to.deep.equal(['BEGIN', 'COMMIT']);
  });

  it('turns the application BEGIN/COMMIT into a savepoint inside the test transaction, which ends with ROLLBACK', async () => {
    const { client, sent } = standIn();
    await beginScope(client);
    await client.query({ text: 'BEGIN' } as pg.QueryConfig);
    await client.query('INSERT INTO t VALUES (1)');
    await client.query('COMMIT');
    await client.query('COMMIT');
    await endScope();
    expect(sent).to.deep.equal(['BEGIN', 'SAVEPOINT bulkhead_1', 'INSERT INTO t VALUES (1)', 'RELEASE SAVEPOINT bulkhead_1', NOTHING, 'ROLLBACK']);
  });

  it('a string that fails after its BEGIN leaves that level open, for the application ROLLBACK to undo', async () => {
    const { client, sent } = standIn(failsOn('1/0'));
    await beginScope(client);
    const err = await client.query('BEGIN; INSERT INTO t VALUES (1); SELECT 1/0; COMMIT').then(() => null, (e: unknown) => e);
    expect(err).to.be.instanceOf(Error);
    await client.query('ROLLBACK');
    await client.query('ROLLBACK');
    expect(sent.slice(1)).to.deep.equal(['SAVEPOINT bulkhead_1;\n INSERT INTO t VALUES (1);\n SELECT 1/0;\nRELEASE SAVEPOINT bulkhead_1', ROLLBACK_1, NOTHING]);
  });

  it('a failing string without a BEGIN keeps the level it started at', async () => {
    const { client, sent } = standIn(failsOn('1/0'));
    await beginScope(client);
    await client.query('BEGIN');
    const err = await client.query('INSERT INTO t VALUES (1); SELECT 1/0; COMMIT').then(() => null, (e: unknown) => e);
    expect(err).to.be.instanceOf(Error);
    await client.query('ROLLBACK');
    expect(sent.slice(-1)).to.deep.equal([ROLLBACK_1]);
  });

  it('with a callback, the level is restored before the callback hears of the failure', async () => {
    const { client, sent } = standIn(failsOn('1/0'));
    await beginScope(client);
    await new Promise<void>((resolve, reject) => {
      client.query('BEGIN; SELECT 1/0', (err: Error) => {
        if (err === null) reject(new Error('the string should have failed'));
        else client.query('ROLLBACK').then(() => resolve(), reject);
      });
    });
    expect(sent.slice(-1)).to.deep.equal([ROLLBACK_1]);
  });

  it('a COMMIT of a level that failed rolls it back, as PostgreSQL does, when the release is refused (25P02)', async () => {
    const { client, sent } = standIn((sql) => (sql === 'RELEASE SAVEPOINT bulkhead_1' ? { code: '25P02' } : null));
    await beginScope(client);
    await client.query('BEGIN');
    await client.query('COMMIT');
    expect(sent.slice(1)).to.deep.equal(['SAVEPOINT bulkhead_1', 'RELEASE SAVEPOINT bulkhead_1', ROLLBACK_1]);
  });

  it('any other refusal of the release reaches the application', async () => {
    const { client, sent } = standIn((sql) => (sql.startsWith('RELEASE') ? { code: '57014' } : null));
    await beginScope(client);
    await client.query('BEGIN');
    const err = await client.query('COMMIT').then(() => null, (e: unknown) => e);
    expect((err as { code?: unknown } | null)?.code).to.equal('57014');
    expect(sent.slice(1)).to.deep.equal(['SAVEPOINT bulkhead_1', 'RELEASE SAVEPOINT bulkhead_1']);
  });
});

describe('transaction: the connection wrapper on PostgreSQL', () => {
  let client: pg.Client;
  before(async () => {
    client = new pg.Client({ connectionString: SERVER_URL, application_name: 'bulkhead-spec' });
    await client.connect();
    await client.query('CREATE TEMP TABLE savepoint_rows (v int NOT NULL)');
    wrapForTransactions(client);
  });
  after(async () => {
    await endScope();
    await client.end();
  });

  it('a string failing part-way, then ROLLBACK: the outer transaction lives on, and only its later write stays until the test ends', async () => {
    await beginScope(client);
    const err = await client.query('BEGIN; INSERT INTO savepoint_rows VALUES (1); SELECT 1/0; COMMIT').then(() => null, (e: unknown) => e);
    expect((err as { code?: unknown } | null)?.code).to.equal('22012');
    await client.query('ROLLBACK');
    await client.query('INSERT INTO savepoint_rows VALUES (2)');
    // A level that failed, then COMMIT: rolled back without an error, as PostgreSQL's own COMMIT would.
    await client.query('BEGIN');
    await client.query('INSERT INTO savepoint_rows VALUES (3)').then(() => client.query('SELECT 1/0')).catch(() => undefined);
    await client.query('COMMIT');
    expect((await client.query('SELECT v FROM savepoint_rows ORDER BY v')).rows).to.deep.equal([{ v: 2 }]);
    expect(client.getTransactionStatus?.()).to.equal('T');
    await endScope();
    expect((await client.query('SELECT v FROM savepoint_rows')).rows).to.deep.equal([]);
  });
});
