// The core promise: after a test breaks its worker's connection, the connection is rebuilt, so one database
// failure stays one failure; and every connection is closed with a goodbye.
import { expect } from 'chai';
import { fixture, runCli, runMocha, specOutcomes } from '../helpers/fixture.js';
import type { CliResult } from '../helpers/fixture.js';
import { HEADLINE, HEADLINE_FAILURES, HEADLINE_PASSES, HEADLINE_REBUILDS, headlineSuite } from '../helpers/headline.js';
import { rebuilds } from '../helpers/output.js';
import { CLEAN, scratchPerSuite, watchServer } from '../helpers/server.js';
import type { ServerState } from '../helpers/server.js';

/** Runs a one-file project on one worker against the scratch database and reads what the server kept. */
async function runOneWorker(source: string, database: { name: string; url: string }): Promise<{ r: CliResult; server: ServerState }> {
  const fx = fixture({ 'test/suite.spec.js': source });
  try {
    const watch = await watchServer(database.name);
    // The mocha timeout is generous: the failures under test come from the server, never from a slow machine.
    const r = await runCli(['-w', '1', '--timeout', '10000'], { cwd: fx.dir, env: { DATABASE_URL: database.url } });
    return { r, server: await watch.check() };
  } finally {
    fx.remove();
  }
}

describe('headline: the headline fixture on one worker', function () {
  const scratch = scratchPerSuite('headline');
  let r: CliResult;
  let server: ServerState;
  before(async function () {
    ({ r, server } = await runOneWorker(headlineSuite('bulkhead'), scratch()));
  });

  it('passes every "pass" test and fails exactly the three database failures and the chai failure', function () {
    expect(specOutcomes(r.output), r.output).to.deep.equal({ passed: HEADLINE_PASSES, failed: HEADLINE_FAILURES });
    expect(r.output).to.match(/^6 passed, 4 failed$/m);
  });

  it('rebuilds once after each database failure, and not after the chai failure or the caught error', function () {
    const seen = rebuilds(r.output);
    expect(seen, r.output).to.not.equal(null);
    expect(seen?.total).to.equal(3);
    expect(seen?.perSlot).to.equal('w1: 3');
    expect(seen?.list.map((b) => [b.slot, b.generation, b.kind, b.title])).to.deep.equal(HEADLINE_REBUILDS.map((t, i) => [1, i + 1, 'test', t]));
    expect(seen?.list.map((b) => b.why.match(/\((\w{5}) /)?.[1])).to.deep.equal(['23505', '57P01', '57014']);
  });

  it('exits 1', function () {
    expect(r.code, r.output).to.equal(1);
  });

  it('leaves no bulkhead session, abandons none and adds no "unexpected EOF" to the server log', function () {
    expect(server).to.deep.equal(CLEAN);
  });
});

describe('headline: a test that leaves its transaction behind', function () {
  const scratch = scratchPerSuite('leftover');
  const source = `import { db } from 'bulkhead';
import { expect } from 'chai';

async function outsideTransaction() {
  const c = await db();
  expect(c.getTransactionStatus()).to.equal('I');
  const { rows } = await c.query('SELECT txid_current_if_assigned() AS xid, now() = statement_timestamp() AS fresh');
  expect(rows[0]).to.deep.equal({ xid: null, fresh: true });
}

before(async () => {
  await (await db()).query('CREATE TABLE leftover_rows (id int PRIMARY KEY); INSERT INTO leftover_rows VALUES (1)');
});

describe('open', function () {
  it('passes with its transaction still open', async () => {
    const c = await db();
    await c.query('BEGIN');
    await c.query('INSERT INTO leftover_rows VALUES (2)');
  });
  it('starts outside a transaction, without the uncommitted row', async () => {
    await outsideTransaction();
    const { rows } = await (await db()).query('SELECT count(*)::int AS n FROM leftover_rows');
    expect(rows[0].n).to.equal(1);
  });
});

describe('aborted', function () {
  it('passes after catching an error inside its transaction', async () => {
    const c = await db();
    await c.query('BEGIN');
    await c.query('INSERT INTO leftover_rows VALUES (1)').catch(() => undefined);
  });
  it('starts outside a transaction', outsideTransaction);
});

describe('hooks', function () {
  let pid;
  beforeEach(async () => { await (await db()).query('BEGIN'); });
  afterEach(async () => { await (await db()).query('ROLLBACK'); });
  it('runs inside the transaction its beforeEach began', async () => {
    const c = await db();
    expect(c.getTransactionStatus()).to.equal('T');
    pid = (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
  });
  it('keeps the same connection after the afterEach ROLLBACK', async () => {
    const { rows } = await (await db()).query('SELECT pg_backend_pid() AS pid');
    expect(rows[0].pid).to.equal(pid);
  });
});
`;
  let r: CliResult;
  let server: ServerState;
  before(async function () {
    ({ r, server } = await runOneWorker(source, scratch()));
  });

  it('passes every test, so the next test always started outside a transaction', function () {
    expect(specOutcomes(r.output).failed, r.output).to.deep.equal([]);
    expect(specOutcomes(r.output).passed).to.have.length(6);
    expect(r.code).to.equal(0);
  });

  it('rebuilds after the open and the aborted transaction, and not for BEGIN in beforeEach with ROLLBACK in afterEach', function () {
    const seen = rebuilds(r.output);
    expect(seen?.total, r.output).to.equal(2);
    expect(seen?.list.map((b) => [b.title, b.why.split(' (')[0]])).to.deep.equal([
      ['open passes with its transaction still open', 'left a transaction open'],
      ['aborted passes after catching an error inside its transaction', 'left an aborted transaction'],
    ]);
  });

  it('leaves the server clean', function () {
    expect(server).to.deep.equal(CLEAN);
  });
});

describe('headline: the pooled variant (the application\'s own pg.Pool, a client per test released without an error)', function () {
  const forBulkhead = scratchPerSuite('pooled_bulkhead');
  const forMocha = scratchPerSuite('pooled_mocha');
  let bulkhead: CliResult;
  let mocha: CliResult;
  before(async function () {
    const fx = fixture({ 'test/pooled.spec.js': headlineSuite('pooled') });
    try {
      bulkhead = await runCli(['-w', '1', '--timeout', '10000'], { cwd: fx.dir, env: { DATABASE_URL: forBulkhead().url } });
      mocha = await runMocha(['--timeout', '10000', 'test/pooled.spec.js'], { cwd: fx.dir, env: { DATABASE_URL: forMocha().url } });
    } finally {
      fx.remove();
    }
  });

  it('plain mocha: the pool hands the aborted client to every later test, which cascade', function () {
    const { passed, failed } = specOutcomes(mocha.output);
    expect(passed, mocha.output).to.deep.equal([HEADLINE.pass1]);
    expect(failed).to.include.members(HEADLINE_PASSES.filter((t) => t !== HEADLINE.pass1));
    expect(mocha.output).to.include('current transaction is aborted, commands ignored until end of transaction block');
  });

  it('bulkhead: every "pass" test passes; the deliberate failures fail, and the self-terminated client\'s own late error', function () {
    const { passed, failed } = specOutcomes(bulkhead.output);
    expect(passed, bulkhead.output).to.deep.equal(HEADLINE_PASSES);
    // The test kills its own checked-out client's backend; the client, released only in afterEach, then raises
    // 'Connection terminated unexpectedly' with no listener: the application's own error, reported against the file.
    expect(failed).to.deep.equal([...HEADLINE_FAILURES.slice(0, 2), `uncaught error in test/pooled.spec.js after "headline ${HEADLINE.terminate}" had passed`, ...HEADLINE_FAILURES.slice(2)]);
    expect(bulkhead.code).to.equal(1);
  });

  it('bulkhead: ends the aborted session and the one that hit statement_timeout, naming them', function () {
    expect(bulkhead.output).to.include('application sessions ended: 2 ');
    expect(bulkhead.output).to.include(`[headline-pool] after test "headline ${HEADLINE.unique}": left an aborted transaction`);
    expect(bulkhead.output).to.include(`[headline-pool] after test "headline ${HEADLINE.timeout}": ran statements in a test that failed with a database error`);
  });
});
